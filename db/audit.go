package db

import (
	"time"
)

// AuditFilter narrows ListAudit.
type AuditFilter struct {
	ActorID  string
	EntityID string
	Action   string
	Since    *time.Time
	Limit    int
	Offset   int
	// Seek, when set, starts the page at a row's place in the list's
	// order instead of at Offset, which is then 0 (keyset pagination). The
	// count is then always the number of rows matching the filters, on
	// every page.
	Seek *Seek
}

// AccessLogFilter narrows AccessLog.
type AccessLogFilter struct {
	// SubjectID is the account whose access log it is; required.
	SubjectID string
	// RecordID keeps the events about that record or that served it.
	RecordID string
	Since    *time.Time
	Limit    int
	Offset   int
	// Seek, when set, starts the page at a row's place in the list's
	// order instead of at Offset, which is then 0 (keyset pagination). The
	// count is then always the number of rows matching the filters, on
	// every page.
	Seek *Seek
}
