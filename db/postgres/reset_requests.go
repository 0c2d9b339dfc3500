package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
)

// resetRequestColumns are the columns scanResetRequest reads, in order.
const resetRequestColumns = `id, email, ip, request_id, requested_at, attempts, claimed_until`

// scanResetRequest reads resetRequestColumns.
func scanResetRequest(row pgx.Row) (db.ResetRequest, error) {
	var r db.ResetRequest
	if err := row.Scan(&r.ID, &r.Email, &r.IP, &r.RequestID, &r.RequestedAt, &r.Attempts, &r.ClaimedUntil); err != nil {
		return r, err
	}
	r.RequestedAt, r.ClaimedUntil = r.RequestedAt.UTC(), utc(r.ClaimedUntil)
	return r, nil
}

// EnqueueResetRequest stores r, unclaimed and with no attempts.
func (t *tx) EnqueueResetRequest(ctx context.Context, r db.ResetRequest) error {
	id, err := idArg("enqueue reset request: id", r.ID)
	if err != nil {
		return err
	}
	_, err = t.q.Exec(ctx, `INSERT INTO reset_requests (id, email, ip, request_id, requested_at) VALUES ($1, $2, $3, $4, $5)`,
		id, r.Email, r.IP, r.RequestID, at(r.RequestedAt))
	if err != nil {
		return fmt.Errorf("enqueue reset request: %w", err)
	}
	return nil
}

// ClaimResetRequests leases up to limit claimable requests, oldest first,
// in one statement: the rows are picked FOR UPDATE SKIP LOCKED, so a
// worker of another instance claiming at the same time passes over the
// rows this transaction holds and takes the next ones instead of waiting,
// and none is claimed twice.
func (t *tx) ClaimResetRequests(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]db.ResetRequest, error) {
	rows, err := t.q.Query(ctx, `WITH claimable AS (
			SELECT id FROM reset_requests WHERE claimed_until IS NULL OR claimed_until < $1
			ORDER BY requested_at LIMIT $3 FOR UPDATE SKIP LOCKED)
		UPDATE reset_requests r SET claimed_until = $2, attempts = r.attempts + 1
		FROM claimable WHERE r.id = claimable.id
		RETURNING r.id, r.email, r.ip, r.request_id, r.requested_at, r.attempts, r.claimed_until`,
		at(now), at(now.Add(lease)), limit)
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
// ran out before now. Rows another transaction is claiming count: the
// claim that follows finds out whether they are still due.
func (r *reader) ResetRequestsDue(ctx context.Context, now time.Time) (bool, error) {
	var due bool
	if err := r.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM reset_requests WHERE claimed_until IS NULL OR claimed_until < $1)`,
		at(now)).Scan(&due); err != nil {
		return false, fmt.Errorf("reset requests due: %w", err)
	}
	return due, nil
}

// DeleteResetRequest removes the request with id, if it is still there.
func (t *tx) DeleteResetRequest(ctx context.Context, id string) error {
	if !validID(id) {
		return nil // no such request
	}
	if _, err := t.q.Exec(ctx, `DELETE FROM reset_requests WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete reset request: %w", err)
	}
	return nil
}
