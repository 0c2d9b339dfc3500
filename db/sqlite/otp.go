package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/anavara/anavara/db"
	"time"
)

// CreateOTP issues c unless the user has a code created after it
// (db.ErrSuperseded), voiding the user's codes created no later than c.
// SQLite has one writer at a time, so nothing can issue a code of the
// user between the check and the insert: no row lock is needed.
func (q *queries) CreateOTP(ctx context.Context, c db.OTPCode) error {
	var exists, newer bool
	err := q.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = ?),
		EXISTS (SELECT 1 FROM otp_codes WHERE user_id = ? AND created > ?)`, c.UserID, c.UserID, micros(c.Created)).Scan(&exists, &newer)
	switch {
	case err != nil:
		return fmt.Errorf("check newer codes: %w", err)
	case !exists:
		return db.ErrNotFound
	case newer:
		return db.ErrSuperseded
	}
	if _, err := q.q.ExecContext(ctx, `UPDATE otp_codes SET used_at = ? WHERE user_id = ? AND used_at IS NULL AND created <= ?`,
		micros(c.Created), c.UserID, micros(c.Created)); err != nil {
		return fmt.Errorf("void earlier codes: %w", err)
	}
	_, err = q.q.ExecContext(ctx, `INSERT INTO otp_codes (id, user_id, code_hash, created, expires_at) VALUES (?,?,?,?,?)`,
		c.ID, c.UserID, c.Hash, micros(c.Created), micros(c.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert code: %w", err)
	}
	return nil
}

// ActiveOTP returns the user's newest unused code that has not expired at
// now and has attempts left, or db.ErrNotFound.
func (q *queries) ActiveOTP(ctx context.Context, userID string, now time.Time, maxAttempts int) (db.OTPCode, error) {
	var c db.OTPCode
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
func (q *queries) CountOTPAttempt(ctx context.Context, id string) error {
	if _, err := q.q.ExecContext(ctx, `UPDATE otp_codes SET attempts = attempts + 1 WHERE id = ?`, id); err != nil {
		return fmt.Errorf("count code attempt: %w", err)
	}
	return nil
}

// UseOTP marks the code used; it returns db.ErrConflict if it already was.
func (q *queries) UseOTP(ctx context.Context, id string, at time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE otp_codes SET used_at = ? WHERE id = ? AND used_at IS NULL`, micros(at), id)
	if err != nil {
		return fmt.Errorf("use code: %w", err)
	}
	if err := requireOneRow(res); err != nil {
		return db.ErrConflict
	}
	return nil
}
