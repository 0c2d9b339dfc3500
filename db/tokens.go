package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// RefreshToken is a stored refresh token. Only its SHA-256 hash is kept.
type RefreshToken struct {
	ID     string
	UserID string
	// FamilyID groups every token rotated from one login, so reuse of any
	// of them revokes them all.
	FamilyID  string
	Hash      []byte
	Created   time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
}

// CreateRefreshToken inserts t.
func (q *Queries) CreateRefreshToken(ctx context.Context, t RefreshToken) error {
	_, err := q.q.ExecContext(ctx,
		`INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created, expires_at) VALUES (?,?,?,?,?,?)`,
		t.ID, t.UserID, t.FamilyID, t.Hash, micros(t.Created), micros(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// RefreshTokenByHash returns the token whose hash is hash, or ErrNotFound.
func (q *Queries) RefreshTokenByHash(ctx context.Context, hash []byte) (RefreshToken, error) {
	var t RefreshToken
	var created, expires int64
	var used, revoked sql.NullInt64
	err := q.q.QueryRowContext(ctx,
		`SELECT id, user_id, family_id, token_hash, created, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = ?`,
		hash).Scan(&t.ID, &t.UserID, &t.FamilyID, &t.Hash, &created, &expires, &used, &revoked)
	if err != nil {
		return t, notFound(err, "select refresh token")
	}
	t.Created, t.ExpiresAt = fromMicros(created), fromMicros(expires)
	t.UsedAt, t.RevokedAt = optionalTime(used), optionalTime(revoked)
	return t, nil
}

// MarkRefreshTokenUsed records that the token was rotated. It returns
// ErrConflict when the token was already used or revoked, so two concurrent
// refreshes of one token cannot both succeed.
func (q *Queries) MarkRefreshTokenUsed(ctx context.Context, id string, at time.Time) error {
	res, err := q.q.ExecContext(ctx,
		`UPDATE refresh_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL`, micros(at), id)
	if err != nil {
		return fmt.Errorf("use refresh token: %w", err)
	}
	if err := requireOneRow(res); err != nil {
		return ErrConflict
	}
	return nil
}

// RevokeRefreshToken revokes one token.
func (q *Queries) RevokeRefreshToken(ctx context.Context, id string, at time.Time) error {
	_, err := q.q.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(at), id)
	if err != nil {
		return fmt.Errorf("revoke refresh token: %w", err)
	}
	return nil
}

// RevokeRefreshFamily revokes every token of a family.
func (q *Queries) RevokeRefreshFamily(ctx context.Context, familyID string, at time.Time) error {
	_, err := q.q.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`, micros(at), familyID)
	if err != nil {
		return fmt.Errorf("revoke refresh token family: %w", err)
	}
	return nil
}

// RevokeUserRefreshTokens revokes every token of a user.
func (q *Queries) RevokeUserRefreshTokens(ctx context.Context, userID string, at time.Time) error {
	_, err := q.q.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, micros(at), userID)
	if err != nil {
		return fmt.Errorf("revoke user refresh tokens: %w", err)
	}
	return nil
}

// DeleteExpiredRefreshTokens removes tokens that expired before cutoff.
func (q *Queries) DeleteExpiredRefreshTokens(ctx context.Context, cutoff time.Time) (int64, error) {
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
