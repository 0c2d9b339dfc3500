package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/anavara/anavara/db"
)

// resetRequestColumns are the columns scanResetRequest reads, in order.
const resetRequestColumns = `id, email, ip, request_id, requested_at, attempts, claimed_until`

// scanResetRequest reads resetRequestColumns.
func scanResetRequest(row scanner) (db.ResetRequest, error) {
	var r db.ResetRequest
	var requested int64
	var claimed sql.NullInt64
	if err := row.Scan(&r.ID, &r.Email, &r.IP, &r.RequestID, &requested, &r.Attempts, &claimed); err != nil {
		return r, err
	}
	r.RequestedAt, r.ClaimedUntil = fromMicros(requested), optionalTime(claimed)
	return r, nil
}

// EnqueueResetRequest stores r, unclaimed and with no attempts.
func (q *queries) EnqueueResetRequest(ctx context.Context, r db.ResetRequest) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO reset_requests (id, email, ip, request_id, requested_at) VALUES (?,?,?,?,?)`,
		r.ID, r.Email, r.IP, r.RequestID, micros(r.RequestedAt))
	if err != nil {
		return fmt.Errorf("enqueue reset request: %w", err)
	}
	return nil
}

// ClaimResetRequests leases up to limit claimable requests, oldest first,
// in one statement. SQLite has one writer at a time, so a second claimer
// runs after this transaction commits and finds these rows leased: no
// row lock is needed. Requests of one instant are claimed in the index's
// order, which is the order they were stored in; ordering by id too would
// sort the whole outbox (TestResetClaimUsesItsIndex).
func (q *queries) ClaimResetRequests(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]db.ResetRequest, error) {
	rows, err := q.q.QueryContext(ctx, `UPDATE reset_requests SET claimed_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM reset_requests WHERE claimed_until IS NULL OR claimed_until < ?
			ORDER BY requested_at LIMIT ?)
		RETURNING `+resetRequestColumns, micros(now.Add(lease)), micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim reset requests: %w", err)
	}
	defer rows.Close()
	var out []db.ResetRequest
	for rows.Next() {
		r, err := scanResetRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("claim reset requests: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim reset requests: %w", err)
	}
	// RETURNING gives no order.
	slices.SortFunc(out, db.CompareResetRequests)
	return out, nil
}

// ResetRequestsDue reports whether a request is unclaimed or its lease
// ran out before now.
func (q *queries) ResetRequestsDue(ctx context.Context, now time.Time) (bool, error) {
	var due bool
	if err := q.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM reset_requests WHERE claimed_until IS NULL OR claimed_until < ?)`,
		micros(now)).Scan(&due); err != nil {
		return false, fmt.Errorf("reset requests due: %w", err)
	}
	return due, nil
}

// DeleteResetRequest removes the request with id, if it is still there.
func (q *queries) DeleteResetRequest(ctx context.Context, id string) error {
	if _, err := q.q.ExecContext(ctx, `DELETE FROM reset_requests WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete reset request: %w", err)
	}
	return nil
}
