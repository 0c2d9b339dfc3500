package db

import (
	"github.com/anavara/anavara/model"
)

// RecordFilter narrows and orders ListRecords.
type RecordFilter struct {
	// UserID limits the list to one patient account.
	UserID string
	// Search matches a case-insensitive substring of patient_name, doctor or
	// diagnosis.
	Search string
	// Doctor matches the doctor's name exactly, ignoring case.
	Doctor string
	// TreatedAfter and TreatedBefore bound date_of_treatment, inclusive.
	TreatedAfter  *model.Date
	TreatedBefore *model.Date
	// Ordering is one of model.RecordOrderings, optionally prefixed by "-".
	Ordering string
	Limit    int
	Offset   int
	// Seek, when set, starts the page at a row's place in the list's
	// order instead of at Offset, which is then 0 (keyset pagination). The
	// count is then always the number of rows matching the filters, on
	// every page.
	Seek *Seek
}
