package db

import (
	"cmp"
	"slices"
	"strings"

	"github.com/anavara/anavara/model"
)

// Keyset pagination: a page that starts at a row's place in the list's
// order (its sort key, then its id, which breaks ties) rather than at an
// offset. Rows added or removed before that place do not move it, so a
// walk from page to page never shows a row twice or skips one that was
// there when it began; each engine turns a Seek into a row comparison,
// (key, id) > (?, ?), that the ordering's index answers as a range.

// Position is a row's place in a list's order.
type Position struct {
	// Key is the row's sort key: a time.Time for the time orderings
	// (records by created or updated, users by created, audit events by
	// at), a model.Date for records by date_of_treatment, and a string for
	// records by patient_name (its folded form, db.Fold, as stored).
	Key any
	// ID is the row's id.
	ID string
}

// Seek starts a page at a position instead of an offset.
type Seek struct {
	Position
	// Backward asks for the rows before the position in the list's order,
	// the nearest ones (a previous page); otherwise the page holds the
	// rows after it. Either way the page comes in the list's order.
	Backward bool
}

// Descending reports whether a page of a list sorted descending (desc)
// reads its index descending: a forward page of a descending list, or a
// backward page of an ascending one.
func (s *Seek) Descending(desc bool) bool {
	if s == nil {
		return desc
	}
	return desc != s.Backward
}

// Comparison is the row-comparison operator that keeps the rows a page
// starting at s holds, in a list sorted descending (desc) or not.
func (s *Seek) Comparison(desc bool) string {
	if s.Descending(desc) {
		return "<"
	}
	return ">"
}

// RecordPosition is r's place in the records ordering (a name of
// model.RecordOrderings, maybe with "-"; empty for the default).
func RecordPosition(ordering string, r model.MedicalRecord) Position {
	p := Position{ID: r.ID}
	switch strings.TrimPrefix(cmp.Or(ordering, model.DefaultRecordOrdering), "-") {
	case "updated":
		p.Key = r.Updated
	case "date_of_treatment":
		p.Key = r.DateOfTreatment
	case "patient_name":
		p.Key = Fold(r.PatientName)
	default:
		p.Key = r.Created
	}
	return p
}

// UserPosition is u's place in the users list: by created, then id.
func UserPosition(u model.User) Position { return Position{Key: u.Created, ID: u.ID} }

// AuditPosition is e's place in the audit trail's lists and the access
// log: by at, then id.
func AuditPosition(e model.AuditEvent) Position { return Position{Key: e.At, ID: e.ID} }

// InListOrder puts the rows of a backward page, which an engine reads
// from the position outward, back in the list's order.
func InListOrder[T any](rows []T, s *Seek) []T {
	if s != nil && s.Backward {
		slices.Reverse(rows)
	}
	return rows
}
