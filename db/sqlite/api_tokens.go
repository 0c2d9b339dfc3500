package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// apiTokenColumns are the columns scanAPIToken reads, in order. scopes is
// stored space-separated: no scope holds a space.
const apiTokenColumns = `id, user_id, name, scopes, token_hash, created, expires_at, last_used, revoked_at`

func scanAPIToken(row interface{ Scan(...any) error }) (db.APITokenRow, error) {
	var t db.APITokenRow
	var scopes string
	var created, expires int64
	var used, revoked sql.NullInt64
	if err := row.Scan(&t.ID, &t.UserID, &t.Name, &scopes, &t.Hash, &created, &expires, &used, &revoked); err != nil {
		return t, err
	}
	t.Scopes = strings.Fields(scopes)
	t.Created, t.Expires = fromMicros(created), fromMicros(expires)
	t.LastUsed, t.RevokedAt = optionalTime(used), optionalTime(revoked)
	return t, nil
}

// CreateAPIToken inserts t, unrevoked and never used; db.ErrConflict when
// its hash is taken.
func (q *queries) CreateAPIToken(ctx context.Context, t db.APITokenRow) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO api_tokens (`+apiTokenColumns+`) VALUES (?,?,?,?,?,?,?,NULL,NULL)`,
		t.ID, t.UserID, t.Name, strings.Join(t.Scopes, " "), t.Hash, micros(t.Created), micros(t.Expires))
	if isUniqueViolation(err) {
		return db.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("insert api token: %w", err)
	}
	return nil
}

// APITokenByHash returns the token whose secret's hash is hash, or
// db.ErrNotFound.
func (q *queries) APITokenByHash(ctx context.Context, hash []byte) (db.APITokenRow, error) {
	t, err := scanAPIToken(q.q.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE token_hash = ?`, hash))
	if err != nil {
		return t, notFound(err, "select api token")
	}
	return t, nil
}

// APITokensOf returns one page of a user's unrevoked tokens, newest first,
// and their number.
func (q *queries) APITokensOf(ctx context.Context, f db.APITokenFilter) ([]model.APIToken, int, error) {
	var count int
	if err := q.q.QueryRowContext(ctx, `SELECT count(*) FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL`, f.UserID).Scan(&count); err != nil {
		return nil, 0, fmt.Errorf("count api tokens: %w", err)
	}
	rows, err := q.q.QueryContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens
		WHERE user_id = ? AND revoked_at IS NULL ORDER BY created DESC, id DESC LIMIT ? OFFSET ?`, f.UserID, f.Limit, f.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list api tokens: %w", err)
	}
	defer rows.Close()
	tokens := make([]model.APIToken, 0, db.PageCapacity(f.Limit))
	for rows.Next() {
		t, err := scanAPIToken(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("scan api token: %w", err)
		}
		tokens = append(tokens, t.APIToken)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list api tokens: %w", err)
	}
	return tokens, count, nil
}

// LiveAPITokens counts userID's tokens neither revoked nor expired at at,
// through the index of the unrevoked ones (api_tokens_user).
func (q *queries) LiveAPITokens(ctx context.Context, userID string, at time.Time) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT count(*) FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?`,
		userID, micros(at)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count live api tokens: %w", err)
	}
	return n, nil
}

// RevokeAPIToken revokes userID's token id; db.ErrNotFound when there is
// no such unrevoked token.
func (q *queries) RevokeAPIToken(ctx context.Context, userID, id string, at time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL`,
		micros(at), id, userID)
	if err != nil {
		return fmt.Errorf("revoke api token: %w", err)
	}
	return requireOneRow(res)
}

// RevokeUserAPITokens revokes every unrevoked token of userID at at.
func (q *queries) RevokeUserAPITokens(ctx context.Context, userID string, at time.Time) ([]string, error) {
	rows, err := q.q.QueryContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL RETURNING id`,
		micros(at), userID)
	if err != nil {
		return nil, fmt.Errorf("revoke api tokens: %w", err)
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("revoke api tokens: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("revoke api tokens: %w", err)
	}
	return ids, nil
}

// TouchAPIToken records a use of token id at at, unless one within
// db.APITokenTouchInterval before at is recorded already.
func (q *queries) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	_, err := q.q.ExecContext(ctx, `UPDATE api_tokens SET last_used = ? WHERE id = ? AND (last_used IS NULL OR last_used < ?)`,
		micros(at), id, micros(at.Add(-db.APITokenTouchInterval)))
	if err != nil {
		return fmt.Errorf("touch api token: %w", err)
	}
	return nil
}
