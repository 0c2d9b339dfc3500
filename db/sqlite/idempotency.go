package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/anavara/anavara/db"
)

// idempotencyColumns are the columns scanIdempotencyKey reads, in order.
const idempotencyColumns = `account_id, method, path, key, claim_id, request_hash, created, expires, lease_until,
	status, content_type, location, etag, body, withheld`

// scanIdempotencyKey reads idempotencyColumns.
func scanIdempotencyKey(row scanner) (db.IdempotencyKey, error) {
	var k db.IdempotencyKey
	var created, expires, lease int64
	var status sql.NullInt64
	var r db.IdempotentResponse
	if err := row.Scan(&k.AccountID, &k.Method, &k.Path, &k.Key, &k.ClaimID, &k.RequestHash, &created, &expires, &lease,
		&status, &r.ContentType, &r.Location, &r.ETag, &r.Body, &r.Withheld); err != nil {
		return k, err
	}
	k.Created, k.Expires, k.LeaseUntil = fromMicros(created), fromMicros(expires), fromMicros(lease)
	if status.Valid {
		r.Status = int(status.Int64)
		k.Response = &r
	}
	return k, nil
}

// IdempotencyKeyOf returns the stored key, live or not.
func (q *queries) IdempotencyKeyOf(ctx context.Context, accountID, method, path, key string) (db.IdempotencyKey, error) {
	k, err := scanIdempotencyKey(q.q.QueryRowContext(ctx, `SELECT `+idempotencyColumns+` FROM idempotency_keys
		WHERE account_id = ? AND method = ? AND path = ? AND key = ?`, accountID, method, path, key))
	if err != nil {
		return k, notFound(err, "read idempotency key")
	}
	return k, nil
}

// ClaimIdempotencyKey inserts k pending, or replaces a row that is no
// longer live, in one statement; when a live row keeps the key, it is
// returned instead. SQLite has one writer at a time, so nothing claims
// between the statement and the read that follows it.
func (q *queries) ClaimIdempotencyKey(ctx context.Context, k db.IdempotencyKey, now time.Time) (db.IdempotencyKey, bool, error) {
	var claimID string
	err := q.q.QueryRowContext(ctx, `INSERT INTO idempotency_keys
			(account_id, method, path, key, claim_id, request_hash, created, expires, lease_until)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, method, path, key) DO UPDATE SET
			claim_id = excluded.claim_id, request_hash = excluded.request_hash, created = excluded.created,
			expires = excluded.expires, lease_until = excluded.lease_until,
			status = NULL, content_type = '', location = '', etag = '', body = NULL, withheld = 0
		WHERE idempotency_keys.expires <= ?10
			OR (idempotency_keys.status IS NULL AND idempotency_keys.lease_until <= ?10)
		RETURNING claim_id`,
		k.AccountID, k.Method, k.Path, k.Key, k.ClaimID, k.RequestHash, micros(k.Created), micros(k.Expires), micros(k.LeaseUntil),
		micros(now)).Scan(&claimID)
	switch {
	case err == nil:
		// As a read would return it: in UTC, to the microsecond.
		k.Response = nil
		k.Created, k.Expires, k.LeaseUntil = fromMicros(micros(k.Created)), fromMicros(micros(k.Expires)), fromMicros(micros(k.LeaseUntil))
		return k, true, nil
	case err != sql.ErrNoRows:
		return db.IdempotencyKey{}, false, fmt.Errorf("claim idempotency key: %w", err)
	}
	held, err := q.IdempotencyKeyOf(ctx, k.AccountID, k.Method, k.Path, k.Key)
	if err != nil {
		return db.IdempotencyKey{}, false, fmt.Errorf("claim idempotency key: %w", err)
	}
	return held, false, nil
}

// CompleteIdempotencyKey stores r on the row the claim holds.
func (q *queries) CompleteIdempotencyKey(ctx context.Context, claimID string, r db.IdempotentResponse) error {
	body := r.Body
	if r.Withheld {
		body = nil
	} else if body == nil {
		body = []byte{}
	}
	res, err := q.q.ExecContext(ctx, `UPDATE idempotency_keys SET status = ?, content_type = ?, location = ?, etag = ?, body = ?, withheld = ?
		WHERE claim_id = ? AND status IS NULL`, r.Status, r.ContentType, r.Location, r.ETag, body, r.Withheld, claimID)
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	} else if n == 0 {
		return db.ErrNotFound
	}
	return nil
}

// ReleaseIdempotencyKey deletes the row the claim holds, if it still does.
func (q *queries) ReleaseIdempotencyKey(ctx context.Context, claimID string) error {
	if _, err := q.q.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE claim_id = ? AND status IS NULL`, claimID); err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// DeleteExpiredIdempotencyKeys deletes up to limit expired rows, oldest
// expiry first, through the expiry index.
func (q *queries) DeleteExpiredIdempotencyKeys(ctx context.Context, now time.Time, limit int) (int64, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE claim_id IN (
		SELECT claim_id FROM idempotency_keys WHERE expires <= ? ORDER BY expires LIMIT ?)`, micros(now), limit)
	if err != nil {
		return 0, fmt.Errorf("delete expired idempotency keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired idempotency keys: %w", err)
	}
	return n, nil
}
