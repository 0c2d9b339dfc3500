package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// apiTokenColumns are the columns scanAPIToken reads, in order.
const apiTokenColumns = `id, user_id, name, scopes, token_hash, created, expires_at, last_used, revoked_at`

func scanAPIToken(row pgx.Row) (db.APITokenRow, error) {
	var t db.APITokenRow
	if err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Scopes, &t.Hash, &t.Created, &t.Expires, &t.LastUsed, &t.RevokedAt); err != nil {
		return t, err
	}
	t.Created, t.Expires = t.Created.UTC(), t.Expires.UTC()
	t.LastUsed, t.RevokedAt = utc(t.LastUsed), utc(t.RevokedAt)
	return t, nil
}

// CreateAPIToken inserts t, unrevoked and never used; db.ErrConflict when
// its hash is taken. ON CONFLICT DO NOTHING keeps the transaction usable
// after a conflict, as on SQLite (see CreateUser).
func (t *tx) CreateAPIToken(ctx context.Context, k db.APITokenRow) error {
	id, err := idArg("insert api token: id", k.ID)
	if err != nil {
		return err
	}
	userID, err := idArg("insert api token: user id", k.UserID)
	if err != nil {
		return err
	}
	tag, err := t.q.Exec(ctx, `INSERT INTO api_tokens (`+apiTokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL)
		ON CONFLICT DO NOTHING`,
		id, userID, k.Name, k.Scopes, k.Hash, at(k.Created), at(k.Expires))
	if isUniqueViolation(err) {
		return db.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("insert api token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return db.ErrConflict
	}
	return nil
}

// APITokenByHash returns the token whose secret's hash is hash, or
// db.ErrNotFound.
func (r *reader) APITokenByHash(ctx context.Context, hash []byte) (db.APITokenRow, error) {
	t, err := scanAPIToken(r.q.QueryRow(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE token_hash = $1`+r.forUpdate, hash))
	if err != nil {
		return db.APITokenRow{}, notFound(err, "select api token")
	}
	return t, nil
}

// APITokensOf returns one page of a user's unrevoked tokens, newest first,
// and their number.
func (r *reader) APITokensOf(ctx context.Context, f db.APITokenFilter) ([]model.APIToken, int, error) {
	if !validID(f.UserID) {
		return []model.APIToken{}, 0, nil
	}
	rows, err := r.q.Query(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens
		WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created DESC, id DESC LIMIT $2 OFFSET $3`, f.UserID, f.Limit+1, f.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list api tokens: %w", err)
	}
	tokens, err := collect(rows, db.PageCapacity(f.Limit), func(row pgx.Row) (model.APIToken, error) {
		t, err := scanAPIToken(row)
		return t.APIToken, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list api tokens: %w", err)
	}
	return pageTotal(ctx, r.q, tokens, f.Limit, f.Offset, false,
		`SELECT count(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL`, []any{f.UserID})
}

// LiveAPITokens counts userID's tokens neither revoked nor expired at at,
// through the index of the unrevoked ones.
func (r *reader) LiveAPITokens(ctx context.Context, userID string, when time.Time) (int, error) {
	if !validID(userID) {
		return 0, nil
	}
	var n int
	err := r.q.QueryRow(ctx, `SELECT count(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2`,
		userID, at(when)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count live api tokens: %w", err)
	}
	return n, nil
}

// RevokeAPIToken revokes userID's token id; db.ErrNotFound when there is
// no such unrevoked token.
func (t *tx) RevokeAPIToken(ctx context.Context, userID, id string, when time.Time) error {
	if !validID(userID) || !validID(id) {
		return db.ErrNotFound
	}
	tag, err := t.q.Exec(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL`,
		at(when), id, userID)
	if err != nil {
		return fmt.Errorf("revoke api token: %w", err)
	}
	return requireOneRow(tag)
}

// RevokeUserAPITokens revokes every unrevoked token of userID at when.
func (t *tx) RevokeUserAPITokens(ctx context.Context, userID string, when time.Time) ([]string, error) {
	if !validID(userID) {
		return []string{}, nil // no such account: no tokens
	}
	rows, err := t.q.Query(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL RETURNING id::text`,
		at(when), userID)
	if err != nil {
		return nil, fmt.Errorf("revoke api tokens: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("revoke api tokens: %w", err)
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

// TouchAPIToken records a use of token id at when, unless one within
// db.APITokenTouchInterval before it is recorded already.
func (t *tx) TouchAPIToken(ctx context.Context, id string, when time.Time) error {
	if !validID(id) {
		return nil // no such token: nothing to touch
	}
	_, err := t.q.Exec(ctx, `UPDATE api_tokens SET last_used = $1 WHERE id = $2 AND (last_used IS NULL OR last_used < $3)`,
		at(when), id, at(when.Add(-db.APITokenTouchInterval)))
	if err != nil {
		return fmt.Errorf("touch api token: %w", err)
	}
	return nil
}
