package dbtest

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// checkKeyset fails the test unless walking a list by keyset (db.Seek) in
// pages of size gives want, in order, both ways: forward from the first
// page, each page after the last row of the one before, and backward from
// the last row, each page before the first row of the one after. Every
// page must count all of want (total).
func checkKeyset[T any](t *testing.T, what string, want []string, size int,
	list func(seek *db.Seek, limit int) ([]T, int, error), pos func(T) db.Position, id func(T) string) {
	t.Helper()
	var seek *db.Seek
	var forward []T
	for range len(want) + 2 {
		page, total, err := list(seek, size)
		if err != nil {
			t.Errorf("%s: forward page after %v: %v", what, seek, err)
			return
		}
		if total != len(want) {
			t.Errorf("%s: forward page after %v: total %d, want %d", what, seek, total, len(want))
		}
		forward = append(forward, page...)
		if len(page) < size {
			break
		}
		seek = &db.Seek{Position: pos(page[len(page)-1])}
	}
	checkIDs(t, what+", keyset forward in pages of "+itoa(size), ids(forward, id), want)
	if len(forward) == 0 {
		return
	}
	backward := forward[len(forward)-1:]
	for range len(want) + 2 {
		seek = &db.Seek{Position: pos(backward[0]), Backward: true}
		page, total, err := list(seek, size)
		if err != nil {
			t.Errorf("%s: backward page before %v: %v", what, seek, err)
			return
		}
		if total != len(want) {
			t.Errorf("%s: backward page before %v: total %d, want %d", what, seek, total, len(want))
		}
		backward = append(slices.Clone(page), backward...)
		if len(page) < size {
			break
		}
	}
	checkIDs(t, what+", keyset backward in pages of "+itoa(size), ids(backward, id), want)
}

// recordKeyset walks ListRecords with f (checkKeyset).
func recordKeyset(t *testing.T, s db.Store, what string, f db.RecordFilter, want []string, size int) {
	t.Helper()
	checkKeyset(t, what, want, size, func(seek *db.Seek, limit int) ([]model.MedicalRecord, int, error) {
		f.Seek, f.Limit, f.Offset = seek, limit, 0
		return s.Read().ListRecords(t.Context(), f)
	}, func(r model.MedicalRecord) db.Position { return db.RecordPosition(f.Ordering, r) }, recordID)
}

var keysetTests = []test{
	{"RecordsUnderInserts", func(t *testing.T, s db.Store) {
		// Pages of a walk start where the one before ended, whatever is
		// added meanwhile: before the walk's position, between its
		// pages, or after its end. Every record there at the start is
		// listed once; an offset would have shown one twice.
		ctx := t.Context()
		u := createUser(t, s, "walk@example.org")
		var start []model.MedicalRecord
		for i := range 20 {
			start = append(start, newRecord(u.ID, sec(10*i)))
		}
		createRecords(t, s, start...)
		for _, ordering := range []string{"-created", "created"} {
			seen := map[string]int{}
			var seek *db.Seek
			offsetRepeats := false
			for page := 0; ; page++ {
				f := db.RecordFilter{Ordering: ordering, Limit: 3, Seek: seek}
				got, _, err := s.Read().ListRecords(ctx, f)
				mustErr(t, "ListRecords", err, nil)
				for _, r := range got {
					seen[r.ID]++
				}
				if len(got) < 3 {
					break
				}
				last := got[len(got)-1]
				seek = &db.Seek{Position: db.RecordPosition(ordering, last)}
				// New records at the start of the list, next to the
				// position, and at its far end.
				first, far := sec(-1000-page), sec(1000+page)
				if ordering == "-created" {
					first, far = far, first
				}
				createRecords(t, s, newRecord(u.ID, first), newRecord(u.ID, last.Created), newRecord(u.ID, far))
				// What the next page by offset would start with.
				next, _, err := s.Read().ListRecords(ctx, db.RecordFilter{Ordering: ordering, Limit: 1, Offset: 3 * (page + 1)})
				mustErr(t, "ListRecords by offset", err, nil)
				if len(next) == 1 && seen[next[0].ID] > 0 {
					offsetRepeats = true
				}
			}
			for _, r := range start {
				if seen[r.ID] != 1 {
					t.Errorf("%s: record created at %v listed %d times, want once", ordering, r.Created, seen[r.ID])
				}
			}
			for id, n := range seen {
				if n > 1 {
					t.Errorf("%s: record %s listed %d times", ordering, id, n)
				}
			}
			if !offsetRepeats {
				t.Errorf("%s: pages by offset never repeated a record: the test shows nothing", ordering)
			}
		}
	}},
	{"Users", func(t *testing.T, s db.Store) {
		var want []model.User
		for i := range 7 {
			u := newUser("k"+itoa(i)+"@example.org", sec(i/2)) // pairs tie
			write(t, s, func(tx db.Tx) error { return tx.CreateUser(t.Context(), u) })
			want = append(want, u.User)
		}
		for _, size := range []int{1, 2, 3, 7, 8} {
			checkKeyset(t, "users", ids(oldestFirst(want), userID), size, func(seek *db.Seek, limit int) ([]model.User, int, error) {
				return s.Read().ListUsers(t.Context(), db.UserFilter{Search: "example.org", Limit: limit, Seek: seek})
			}, db.UserPosition, userID)
		}
	}},
	{"AuditAndAccessLog", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		patient, staff := createUser(t, s, "p@example.org"), createUser(t, s, "s@example.org")
		rec := newRecord(patient.ID, sec(0))
		var all, about []model.AuditEvent
		for i := range 9 {
			// Pairs tie on time; every third serves the record in a list,
			// the rest read it: both parts of the entity's and the access
			// log's unions.
			e := model.AuditEvent{ID: uuid.NewString(), At: at(time.Duration(i/2) * time.Second), ActorID: &staff.ID, Action: model.ActionRecordRead,
				Entity: model.EntityRecord, EntityID: &rec.ID, IP: "192.0.2.3", SubjectIDs: []string{patient.ID}}
			if i%3 == 0 {
				e.Action, e.EntityID, e.RecordIDs = model.ActionRecordList, nil, []string{rec.ID}
			}
			all = append(all, e)
			about = append(about, e)
		}
		export := model.AuditEvent{ID: uuid.NewString(), At: at(1500 * time.Millisecond), Action: model.ActionPopulationExport, Entity: model.EntityDatabase, IP: "192.0.2.3"}
		other := model.AuditEvent{ID: uuid.NewString(), At: at(2 * time.Second), ActorID: &patient.ID, Action: model.ActionLogin, Entity: model.EntityUser, EntityID: &patient.ID, IP: "192.0.2.3"}
		all = append(all, export, other)
		insertEvents(t, s, all...)
		for _, size := range []int{1, 2, 4, 11} {
			checkKeyset(t, "audit", ids(newestFirst(all), eventID), size, func(seek *db.Seek, limit int) ([]model.AuditEvent, int, error) {
				return s.Read().ListAudit(ctx, db.AuditFilter{Limit: limit, Seek: seek})
			}, db.AuditPosition, eventID)
			checkKeyset(t, "audit by actor", ids(newestFirst(about), eventID), size, func(seek *db.Seek, limit int) ([]model.AuditEvent, int, error) {
				return s.Read().ListAudit(ctx, db.AuditFilter{ActorID: staff.ID, Limit: limit, Seek: seek})
			}, db.AuditPosition, eventID)
			checkKeyset(t, "audit by entity", ids(newestFirst(about), eventID), size, func(seek *db.Seek, limit int) ([]model.AuditEvent, int, error) {
				return s.Read().ListAudit(ctx, db.AuditFilter{EntityID: rec.ID, Limit: limit, Seek: seek})
			}, db.AuditPosition, eventID)
			checkKeyset(t, "access log", ids(newestFirst(append(slices.Clone(about), export)), eventID), size, func(seek *db.Seek, limit int) ([]model.AuditEvent, int, error) {
				return s.Read().AccessLog(ctx, db.AccessLogFilter{SubjectID: patient.ID, Limit: limit, Seek: seek})
			}, db.AuditPosition, eventID)
		}
	}},
}
