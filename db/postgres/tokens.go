package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
)

// CreateRefreshToken inserts t.
func (t *tx) CreateRefreshToken(ctx context.Context, rt db.RefreshToken) error {
	id, err := idArg("insert refresh token: id", rt.ID)
	if err != nil {
		return err
	}
	userID, err := idArg("insert refresh token: user id", rt.UserID)
	if err != nil {
		return err
	}
	family, err := idArg("insert refresh token: family id", rt.FamilyID)
	if err != nil {
		return err
	}
	_, err = t.q.Exec(ctx,
		`INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, userID, family, rt.Hash, at(rt.Created), at(rt.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// refreshTokenColumns are the columns scanRefreshToken reads, in order.
const refreshTokenColumns = `id, user_id, family_id, token_hash, created, expires_at, used_at, revoked_at, rotated_by, coalesce(child_id::text, ''), grace_used_at`

// RefreshTokenByHash returns the token whose hash is hash, or
// db.ErrNotFound.
func (r *reader) RefreshTokenByHash(ctx context.Context, hash []byte) (db.RefreshToken, error) {
	return scanRefreshToken(r.q.QueryRow(ctx, `SELECT `+refreshTokenColumns+` FROM refresh_tokens WHERE token_hash = $1`+r.forUpdate, hash))
}

// RefreshTokenByID returns the token with id, or db.ErrNotFound.
func (r *reader) RefreshTokenByID(ctx context.Context, id string) (db.RefreshToken, error) {
	if !validID(id) {
		return db.RefreshToken{}, db.ErrNotFound
	}
	return scanRefreshToken(r.q.QueryRow(ctx, `SELECT `+refreshTokenColumns+` FROM refresh_tokens WHERE id = $1`+r.forUpdate, id))
}

func scanRefreshToken(row pgx.Row) (db.RefreshToken, error) {
	var t db.RefreshToken
	err := row.Scan(&t.ID, &t.UserID, &t.FamilyID, &t.Hash, &t.Created, &t.ExpiresAt, &t.UsedAt, &t.RevokedAt,
		&t.RotatedBy, &t.ChildID, &t.GraceUsedAt)
	if err != nil {
		return db.RefreshToken{}, notFound(err, "select refresh token")
	}
	t.Created, t.ExpiresAt = t.Created.UTC(), t.ExpiresAt.UTC()
	t.UsedAt, t.RevokedAt, t.GraceUsedAt = utc(t.UsedAt), utc(t.RevokedAt), utc(t.GraceUsedAt)
	return t, nil
}

// MarkRefreshTokenUsed records that the token was rotated, by the client
// with fingerprint rotatedBy, into the token childID. It returns
// db.ErrConflict when the token was already used or revoked: the WHERE
// guard makes two concurrent refreshes of one token exclusive even without
// the row lock a read in the same transaction takes.
func (t *tx) MarkRefreshTokenUsed(ctx context.Context, id string, when time.Time, rotatedBy []byte, childID string) error {
	if !validID(id) {
		return db.ErrConflict
	}
	// The SQLite engine stores an empty child id as it is and reads it
	// back as ""; NULL reads back the same way here.
	var child *string
	if childID != "" {
		c, err := idArg("use refresh token: child id", childID)
		if err != nil {
			return err
		}
		child = &c
	}
	tag, err := t.q.Exec(ctx,
		`UPDATE refresh_tokens SET used_at = $1, rotated_by = $2, child_id = $3 WHERE id = $4 AND used_at IS NULL AND revoked_at IS NULL`,
		at(when), rotatedBy, child, id)
	if err != nil {
		return fmt.Errorf("use refresh token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return db.ErrConflict
	}
	return nil
}

// UseRefreshGrace records that a replay of the rotated token was answered
// within the grace window. It returns db.ErrConflict when the grace was
// already used (or the token revoked meanwhile): it is granted once.
func (t *tx) UseRefreshGrace(ctx context.Context, id string, when time.Time) error {
	if !validID(id) {
		return db.ErrConflict
	}
	tag, err := t.q.Exec(ctx,
		`UPDATE refresh_tokens SET grace_used_at = $1 WHERE id = $2 AND grace_used_at IS NULL AND used_at IS NOT NULL AND revoked_at IS NULL`,
		at(when), id)
	if err != nil {
		return fmt.Errorf("use refresh grace: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return db.ErrConflict
	}
	return nil
}

// RevokeRefreshToken revokes one token.
func (t *tx) RevokeRefreshToken(ctx context.Context, id string, when time.Time) error {
	if !validID(id) {
		return nil // no such token: nothing to revoke
	}
	_, err := t.q.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, at(when), id)
	if err != nil {
		return fmt.Errorf("revoke refresh token: %w", err)
	}
	return nil
}

// RevokeRefreshFamily revokes every token of a family.
func (t *tx) RevokeRefreshFamily(ctx context.Context, familyID string, when time.Time) error {
	if !validID(familyID) {
		return nil
	}
	_, err := t.q.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL`, at(when), familyID)
	if err != nil {
		return fmt.Errorf("revoke refresh token family: %w", err)
	}
	return nil
}

// RevokeUserRefreshTokens revokes every token of a user.
func (t *tx) RevokeUserRefreshTokens(ctx context.Context, userID string, when time.Time) error {
	if !validID(userID) {
		return nil
	}
	_, err := t.q.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`, at(when), userID)
	if err != nil {
		return fmt.Errorf("revoke user refresh tokens: %w", err)
	}
	return nil
}

// DeleteExpiredRefreshTokens removes tokens that expired before cutoff
// and returns how many.
func (t *tx) DeleteExpiredRefreshTokens(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := t.q.Exec(ctx, `DELETE FROM refresh_tokens WHERE expires_at < $1`, at(cutoff))
	if err != nil {
		return 0, fmt.Errorf("delete expired refresh tokens: %w", err)
	}
	return tag.RowsAffected(), nil
}
