package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// OTPCode is a stored password-reset code. Only a keyed hash of the code is
// kept, since six digits alone are trivial to brute-force from a plain hash.
type OTPCode struct {
	ID        string
	UserID    string
	Hash      []byte
	Created   time.Time
	ExpiresAt time.Time
	Attempts  int
	UsedAt    *time.Time
}

// CreateOTP voids the user's earlier codes and inserts c.
func (q *Queries) CreateOTP(ctx context.Context, c OTPCode) error {
	if _, err := q.q.ExecContext(ctx, `UPDATE otp_codes SET used_at = ? WHERE user_id = ? AND used_at IS NULL`,
		micros(c.Created), c.UserID); err != nil {
		return fmt.Errorf("void earlier codes: %w", err)
	}
	_, err := q.q.ExecContext(ctx, `INSERT INTO otp_codes (id, user_id, code_hash, created, expires_at) VALUES (?,?,?,?,?)`,
		c.ID, c.UserID, c.Hash, micros(c.Created), micros(c.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert code: %w", err)
	}
	return nil
}

// ActiveOTP returns the user's newest unused code that has not expired at
// now and has attempts left, or ErrNotFound.
func (q *Queries) ActiveOTP(ctx context.Context, userID string, now time.Time, maxAttempts int) (OTPCode, error) {
	var c OTPCode
	var created, expires int64
	var used sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT id, user_id, code_hash, created, expires_at, attempts, used_at FROM otp_codes
		WHERE user_id = ? AND used_at IS NULL AND expires_at > ? AND attempts < ?
		ORDER BY created DESC LIMIT 1`, userID, micros(now), maxAttempts).
		Scan(&c.ID, &c.UserID, &c.Hash, &created, &expires, &c.Attempts, &used)
	if err != nil {
		return c, notFound(err, "select code")
	}
	c.Created, c.ExpiresAt, c.UsedAt = fromMicros(created), fromMicros(expires), optionalTime(used)
	return c, nil
}

// CountOTPAttempt records one wrong guess against the code.
func (q *Queries) CountOTPAttempt(ctx context.Context, id string) error {
	if _, err := q.q.ExecContext(ctx, `UPDATE otp_codes SET attempts = attempts + 1 WHERE id = ?`, id); err != nil {
		return fmt.Errorf("count code attempt: %w", err)
	}
	return nil
}

// UseOTP marks the code used; it returns ErrConflict if it already was.
func (q *Queries) UseOTP(ctx context.Context, id string, at time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE otp_codes SET used_at = ? WHERE id = ? AND used_at IS NULL`, micros(at), id)
	if err != nil {
		return fmt.Errorf("use code: %w", err)
	}
	if err := requireOneRow(res); err != nil {
		return ErrConflict
	}
	return nil
}
