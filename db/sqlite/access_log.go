package sqlite

import (
	"context"
	"errors"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

var errChainPending = errors.New("audit chain: not built yet")

// AccessLog is the account's access log (db.Reader).
func (q *queries) AccessLog(ctx context.Context, f db.AccessLogFilter) ([]model.AuditEvent, int, error) {
	return nil, 0, errChainPending
}

// AuditHead is the chain's head (db.Reader).
func (q *queries) AuditHead(ctx context.Context) (model.AuditHead, error) {
	return model.AuditHead{}, errChainPending
}

// EachAudit walks the trail in chain order (db.Snapshot).
func (s *snapshot) EachAudit(ctx context.Context, fn func(model.AuditEvent) error) error {
	return errChainPending
}
