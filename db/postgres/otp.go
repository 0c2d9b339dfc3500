package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/anavara/anavara/db"
)

// CreateOTP issues c unless the user has a code created after it
// (db.ErrSuperseded), voiding the user's codes created no later than c.
// It first locks the user's row, so that two workers issuing codes of one
// account take turns: the second sees the first's code, committed, once
// it has the lock (each READ COMMITTED statement reads afresh). FOR NO KEY
// UPDATE, not FOR UPDATE: it does not hold up inserts that refer to the
// user (a record, a token) meanwhile.
func (t *tx) CreateOTP(ctx context.Context, c db.OTPCode) error {
	id, err := idArg("insert code: id", c.ID)
	if err != nil {
		return err
	}
	if !validID(c.UserID) {
		return db.ErrNotFound
	}
	var one int
	if err := t.q.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, c.UserID).Scan(&one); err != nil {
		return notFound(err, "lock user")
	}
	var newer bool
	if err := t.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM otp_codes WHERE user_id = $1 AND created > $2)`,
		c.UserID, at(c.Created)).Scan(&newer); err != nil {
		return fmt.Errorf("check newer codes: %w", err)
	}
	if newer {
		return db.ErrSuperseded
	}
	if _, err := t.q.Exec(ctx, `UPDATE otp_codes SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL AND created <= $1`,
		at(c.Created), c.UserID); err != nil {
		return fmt.Errorf("void earlier codes: %w", err)
	}
	_, err = t.q.Exec(ctx, `INSERT INTO otp_codes (id, user_id, code_hash, created, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		id, c.UserID, c.Hash, at(c.Created), at(c.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert code: %w", err)
	}
	return nil
}

// ActiveOTP returns the user's newest unused code that has not expired at
// now and has attempts left, or db.ErrNotFound. In a transaction it locks
// the code: a concurrent guess waits, then sees the attempt this one
// counts, and finds no code once the attempts are spent.
func (r *reader) ActiveOTP(ctx context.Context, userID string, now time.Time, maxAttempts int) (db.OTPCode, error) {
	if !validID(userID) {
		return db.OTPCode{}, db.ErrNotFound
	}
	var c db.OTPCode
	err := r.q.QueryRow(ctx, `SELECT id, user_id, code_hash, created, expires_at, attempts, used_at FROM otp_codes
		WHERE user_id = $1 AND used_at IS NULL AND expires_at > $2 AND attempts < $3
		ORDER BY created DESC, id DESC LIMIT 1`+r.forUpdate, userID, at(now), maxAttempts).
		Scan(&c.ID, &c.UserID, &c.Hash, &c.Created, &c.ExpiresAt, &c.Attempts, &c.UsedAt)
	if err != nil {
		return db.OTPCode{}, notFound(err, "select code")
	}
	c.Created, c.ExpiresAt, c.UsedAt = c.Created.UTC(), c.ExpiresAt.UTC(), utc(c.UsedAt)
	return c, nil
}

// CountOTPAttempt records one wrong guess against the code.
func (t *tx) CountOTPAttempt(ctx context.Context, id string) error {
	if !validID(id) {
		return nil // no such code: nothing to count
	}
	if _, err := t.q.Exec(ctx, `UPDATE otp_codes SET attempts = attempts + 1 WHERE id = $1`, id); err != nil {
		return fmt.Errorf("count code attempt: %w", err)
	}
	return nil
}

// UseOTP marks the code used; db.ErrConflict if it already was (or there
// is no such code, as on SQLite).
func (t *tx) UseOTP(ctx context.Context, id string, when time.Time) error {
	if !validID(id) {
		return db.ErrConflict
	}
	tag, err := t.q.Exec(ctx, `UPDATE otp_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL`, at(when), id)
	if err != nil {
		return fmt.Errorf("use code: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return db.ErrConflict
	}
	return nil
}
