package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/anavara/anavara/db"
	"time"
)

// CreateRefreshToken inserts t.
func (q *queries) CreateRefreshToken(ctx context.Context, t db.RefreshToken) error {
	_, err := q.q.ExecContext(ctx,
		`INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created, expires_at) VALUES (?,?,?,?,?,?)`,
		t.ID, t.UserID, t.FamilyID, t.Hash, micros(t.Created), micros(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// refreshTokenColumns are the columns scanRefreshToken reads, in order.
const refreshTokenColumns = `id, user_id, family_id, token_hash, created, expires_at, used_at, revoked_at, rotated_by, coalesce(child_id, ''), grace_used_at`

// RefreshTokenByHash returns the token whose hash is hash, or db.ErrNotFound.
func (q *queries) RefreshTokenByHash(ctx context.Context, hash []byte) (db.RefreshToken, error) {
	return scanRefreshToken(q.q.QueryRowContext(ctx, `SELECT `+refreshTokenColumns+` FROM refresh_tokens WHERE token_hash = ?`, hash))
}

// RefreshTokenByID returns the token with id, or db.ErrNotFound.
func (q *queries) RefreshTokenByID(ctx context.Context, id string) (db.RefreshToken, error) {
	return scanRefreshToken(q.q.QueryRowContext(ctx, `SELECT `+refreshTokenColumns+` FROM refresh_tokens WHERE id = ?`, id))
}

func scanRefreshToken(row *sql.Row) (db.RefreshToken, error) {
	var t db.RefreshToken
	var created, expires int64
	var used, revoked, grace sql.NullInt64
	err := row.Scan(&t.ID, &t.UserID, &t.FamilyID, &t.Hash, &created, &expires, &used, &revoked, &t.RotatedBy, &t.ChildID, &grace)
	if err != nil {
		return t, notFound(err, "select refresh token")
	}
	t.Created, t.ExpiresAt = fromMicros(created), fromMicros(expires)
	t.UsedAt, t.RevokedAt, t.GraceUsedAt = optionalTime(used), optionalTime(revoked), optionalTime(grace)
	return t, nil
}

// MarkRefreshTokenUsed records that the token was rotated, by the client
// with fingerprint rotatedBy, into the token childID. It returns
// db.ErrConflict when the token was already used or revoked, so two concurrent
// refreshes of one token cannot both succeed.
func (q *queries) MarkRefreshTokenUsed(ctx context.Context, id string, at time.Time, rotatedBy []byte, childID string) error {
	res, err := q.q.ExecContext(ctx,
		`UPDATE refresh_tokens SET used_at = ?, rotated_by = ?, child_id = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL`,
		micros(at), rotatedBy, childID, id)
	if err != nil {
		return fmt.Errorf("use refresh token: %w", err)
	}
	if err := requireOneRow(res); err != nil {
		return db.ErrConflict
	}
	return nil
}

// UseRefreshGrace records that a replay of the rotated token was answered
// within the grace window. It returns db.ErrConflict when the grace was
// already used (or the token revoked meanwhile): it is granted once.
func (q *queries) UseRefreshGrace(ctx context.Context, id string, at time.Time) error {
	res, err := q.q.ExecContext(ctx,
		`UPDATE refresh_tokens SET grace_used_at = ? WHERE id = ? AND grace_used_at IS NULL AND used_at IS NOT NULL AND revoked_at IS NULL`,
		micros(at), id)
	if err != nil {
		return fmt.Errorf("use refresh grace: %w", err)
	}
	if err := requireOneRow(res); err != nil {
		return db.ErrConflict
	}
	return nil
}

// RevokeRefreshToken revokes one token.
func (q *queries) RevokeRefreshToken(ctx context.Context, id string, at time.Time) error {
	_, err := q.q.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(at), id)
	if err != nil {
		return fmt.Errorf("revoke refresh token: %w", err)
	}
	return nil
}

// RevokeRefreshFamily revokes every token of a family.
func (q *queries) RevokeRefreshFamily(ctx context.Context, familyID string, at time.Time) error {
	_, err := q.q.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`, micros(at), familyID)
	if err != nil {
		return fmt.Errorf("revoke refresh token family: %w", err)
	}
	return nil
}

// RevokeUserRefreshTokens revokes every token of a user.
func (q *queries) RevokeUserRefreshTokens(ctx context.Context, userID string, at time.Time) error {
	_, err := q.q.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, micros(at), userID)
	if err != nil {
		return fmt.Errorf("revoke user refresh tokens: %w", err)
	}
	return nil
}

// DeleteExpiredRefreshTokens removes tokens that expired before cutoff.
func (q *queries) DeleteExpiredRefreshTokens(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE expires_at < ?`, micros(cutoff))
	if err != nil {
		return 0, fmt.Errorf("delete expired refresh tokens: %w", err)
	}
	return res.RowsAffected()
}

func optionalTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}
