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
}
