package sqlite

import (
	"slices"

	"github.com/anavara/anavara/model"
)

// What the trail's lookups should answer, worked out from the events
// themselves, for the tests that compare the store's answers with them.

// aboutOrServed is the set of events about record or that served it:
// ListAudit's answer to a filter by the record (db.AuditFilter.EntityID).
func aboutOrServed(events []model.AuditEvent, record string) map[string]bool {
	want := map[string]bool{}
	for _, e := range events {
		if (e.EntityID != nil && *e.EntityID == record) || slices.Contains(e.RecordIDs, record) {
			want[e.ID] = true
		}
	}
	return want
}

// accessLogOf is the set of events of subject's access log, narrowed to
// record unless it is "": those that concern the account and that someone
// else did, and every population export, which concerns everyone.
func accessLogOf(events []model.AuditEvent, subject, record string) map[string]bool {
	want := map[string]bool{}
	for _, e := range events {
		concerns := slices.Contains(e.SubjectIDs, subject) && *e.ActorID != subject
		if record != "" {
			concerns = concerns && ((e.EntityID != nil && *e.EntityID == record) || slices.Contains(e.RecordIDs, record))
		}
		if concerns || e.Action == model.ActionPopulationExport {
			want[e.ID] = true
		}
	}
	return want
}

// eventIDs is the set of es's ids.
func eventIDs(es []model.AuditEvent) map[string]bool {
	got := map[string]bool{}
	for _, e := range es {
		got[e.ID] = true
	}
	return got
}
