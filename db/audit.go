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
