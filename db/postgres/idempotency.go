package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
)

// idempotencyColumns are the columns scanIdempotencyKey reads, in order.
const idempotencyColumns = `account_id, method, path, key, claim_id, request_hash, created, expires, lease_until,
	status, content_type, location, etag, body, withheld`

// scanIdempotencyKey reads idempotencyColumns.
func scanIdempotencyKey(row pgx.Row) (db.IdempotencyKey, error) {
	var k db.IdempotencyKey
	var status *int
	var r db.IdempotentResponse
	if err := row.Scan(&k.AccountID, &k.Method, &k.Path, &k.Key, &k.ClaimID, &k.RequestHash, &k.Created, &k.Expires, &k.LeaseUntil,
		&status, &r.ContentType, &r.Location, &r.ETag, &r.Body, &r.Withheld); err != nil {
		return k, err
	}
	k.Created, k.Expires, k.LeaseUntil = k.Created.UTC(), k.Expires.UTC(), k.LeaseUntil.UTC()
	if status != nil {
		r.Status = *status
		k.Response = &r
	}
	return k, nil
}

// IdempotencyKeyOf returns the stored key, live or not.
func (r *reader) IdempotencyKeyOf(ctx context.Context, accountID, method, path, key string) (db.IdempotencyKey, error) {
	if !validID(accountID) {
		return db.IdempotencyKey{}, db.ErrNotFound
	}
	k, err := scanIdempotencyKey(r.q.QueryRow(ctx, `SELECT `+idempotencyColumns+` FROM idempotency_keys
		WHERE account_id = $1 AND method = $2 AND path = $3 AND key = $4`+r.forUpdate, accountID, method, path, key))
	if err != nil {
		return k, notFound(err, "read idempotency key")
	}
	return k, nil
}

// ClaimIdempotencyKey inserts k pending, or replaces a row that is no
// longer live, in one statement. Under read committed, a concurrent
// claim's uncommitted row makes this INSERT wait for that transaction to
// end and then see its row: two claims of one key never both succeed.
// When a live row keeps the key, it is read (and locked) and returned; a
// row deleted between the two statements (released by its claimer) makes
// the claim try again.
func (t *tx) ClaimIdempotencyKey(ctx context.Context, k db.IdempotencyKey, now time.Time) (db.IdempotencyKey, bool, error) {
	accountID, err := idArg("claim idempotency key: account id", k.AccountID)
	if err != nil {
		return db.IdempotencyKey{}, false, err
	}
	claimID, err := idArg("claim idempotency key: claim id", k.ClaimID)
	if err != nil {
		return db.IdempotencyKey{}, false, err
	}
	for range 3 {
		var got string
		err := t.q.QueryRow(ctx, `INSERT INTO idempotency_keys AS k
				(account_id, method, path, key, claim_id, request_hash, created, expires, lease_until)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (account_id, method, path, key) DO UPDATE SET
				claim_id = excluded.claim_id, request_hash = excluded.request_hash, created = excluded.created,
				expires = excluded.expires, lease_until = excluded.lease_until,
				status = NULL, content_type = '', location = '', etag = '', body = NULL, withheld = false
			WHERE k.expires <= $10 OR (k.status IS NULL AND k.lease_until <= $10)
			RETURNING claim_id::text`,
			accountID, k.Method, k.Path, k.Key, claimID, k.RequestHash, at(k.Created), at(k.Expires), at(k.LeaseUntil), at(now)).Scan(&got)
		if err == nil {
			// As a read would return it: in UTC, to the microsecond.
			k.Response = nil
			k.Created, k.Expires, k.LeaseUntil = at(k.Created), at(k.Expires), at(k.LeaseUntil)
			return k, true, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return db.IdempotencyKey{}, false, fmt.Errorf("claim idempotency key: %w", err)
		}
		held, err := t.IdempotencyKeyOf(ctx, accountID, k.Method, k.Path, k.Key)
		if errors.Is(err, db.ErrNotFound) {
			continue
		}
		if err != nil {
			return db.IdempotencyKey{}, false, fmt.Errorf("claim idempotency key: %w", err)
		}
		return held, false, nil
	}
	return db.IdempotencyKey{}, false, fmt.Errorf("claim idempotency key: the row kept changing")
}

// CompleteIdempotencyKey stores r on the row the claim holds.
func (t *tx) CompleteIdempotencyKey(ctx context.Context, claimID string, r db.IdempotentResponse) error {
	if !validID(claimID) {
		return db.ErrNotFound
	}
	body := r.Body
	if r.Withheld {
		body = nil
	} else if body == nil {
		body = []byte{}
	}
	tag, err := t.q.Exec(ctx, `UPDATE idempotency_keys SET status = $1, content_type = $2, location = $3, etag = $4, body = $5, withheld = $6
		WHERE claim_id = $7 AND status IS NULL`, r.Status, r.ContentType, r.Location, r.ETag, body, r.Withheld, claimID)
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return db.ErrNotFound
	}
	return nil
}

// ReleaseIdempotencyKey deletes the row the claim holds, if it still does.
func (t *tx) ReleaseIdempotencyKey(ctx context.Context, claimID string) error {
	if !validID(claimID) {
		return nil
	}
	if _, err := t.q.Exec(ctx, `DELETE FROM idempotency_keys WHERE claim_id = $1 AND status IS NULL`, claimID); err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// DeleteExpiredIdempotencyKeys deletes up to limit expired rows, oldest
// expiry first. Rows another transaction holds are skipped rather than
// waited for: two instances pruning at once split the work.
func (t *tx) DeleteExpiredIdempotencyKeys(ctx context.Context, now time.Time, limit int) (int64, error) {
	tag, err := t.q.Exec(ctx, `DELETE FROM idempotency_keys WHERE claim_id IN (
		SELECT claim_id FROM idempotency_keys WHERE expires <= $1 ORDER BY expires LIMIT $2 FOR UPDATE SKIP LOCKED)`, at(now), limit)
	if err != nil {
		return 0, fmt.Errorf("delete expired idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
