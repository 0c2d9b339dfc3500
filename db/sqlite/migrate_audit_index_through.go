package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// addAuditIndexThrough is migration 21: audit_index is filled behind the
// trail (audit_indexer.go), and audit_index_through holds the seq through
// which it is. Every event in the chain is indexed when this runs (each
// was, in its own transaction), so it starts at the chain's head.
func addAuditIndexThrough(ctx context.Context, tx *sql.Tx) error {
	for _, stmt := range []string{
		`CREATE TABLE audit_index_through (
			id INTEGER PRIMARY KEY CHECK (id = 1),
			seq INTEGER NOT NULL
		)`,
		`INSERT INTO audit_index_through (id, seq) SELECT 1, coalesce(max(seq), 0) FROM audit_events`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("audit index watermark: %w", err)
		}
	}
	return nil
}

// dropAuditIndexThrough undoes migration 21. The code before it indexes
// every event in the event's own transaction and reads no watermark, so
// the events after it are indexed first.
func dropAuditIndexThrough(ctx context.Context, tx *sql.Tx) error {
	if err := indexAuditTrail(ctx, &queries{q: tx}); err != nil {
		return fmt.Errorf("undo the audit index watermark: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE audit_index_through`); err != nil {
		return fmt.Errorf("undo the audit index watermark: %w", err)
	}
	return nil
}
