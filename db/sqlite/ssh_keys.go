package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/anavara/anavara/db"
	"time"

	"github.com/anavara/anavara/model"
)

const sshKeyColumns = `id, user_id, name, type, fingerprint, public_key, created, last_used`

func scanSSHKey(row interface{ Scan(...any) error }) (db.SSHKeyRow, error) {
	var k db.SSHKeyRow
	var created int64
	var used sql.NullInt64
	err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.Type, &k.Fingerprint, &k.PublicKey, &created, &used)
	k.Created, k.LastUsed = fromMicros(created), optionalTime(used)
	return k, err
}

// CreateSSHKey inserts k; db.ErrConflict means the key is linked already.
func (q *queries) CreateSSHKey(ctx context.Context, k db.SSHKeyRow) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO ssh_keys (`+sshKeyColumns+`) VALUES (?,?,?,?,?,?,?,NULL)`,
		k.ID, k.UserID, k.Name, k.Type, k.Fingerprint, k.PublicKey, micros(k.Created))
	if isUniqueViolation(err) {
		return db.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("insert ssh key: %w", err)
	}
	return nil
}

// SSHKeysOf lists a user's keys, oldest first.
func (q *queries) SSHKeysOf(ctx context.Context, userID string) ([]model.SSHKey, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+sshKeyColumns+` FROM ssh_keys WHERE user_id = ? ORDER BY created, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list ssh keys: %w", err)
	}
	defer rows.Close()
	keys := []model.SSHKey{}
	for rows.Next() {
		k, err := scanSSHKey(rows)
		if err != nil {
			return nil, fmt.Errorf("scan ssh key: %w", err)
		}
		keys = append(keys, k.SSHKey)
	}
	return keys, rows.Err()
}

// SSHKeyByFingerprint returns the key with fingerprint, or db.ErrNotFound.
func (q *queries) SSHKeyByFingerprint(ctx context.Context, fingerprint string) (db.SSHKeyRow, error) {
	k, err := scanSSHKey(q.q.QueryRowContext(ctx, `SELECT `+sshKeyColumns+` FROM ssh_keys WHERE fingerprint = ?`, fingerprint))
	if err != nil {
		return k, notFound(err, "select ssh key")
	}
	return k, nil
}

// DeleteSSHKey removes key id of userID; db.ErrNotFound if there is none.
func (q *queries) DeleteSSHKey(ctx context.Context, userID, id string) error {
	res, err := q.q.ExecContext(ctx, `DELETE FROM ssh_keys WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return fmt.Errorf("delete ssh key: %w", err)
	}
	return requireOneRow(res)
}

// TouchSSHKey records that the key signed someone in at at.
func (q *queries) TouchSSHKey(ctx context.Context, id string, at time.Time) error {
	if _, err := q.q.ExecContext(ctx, `UPDATE ssh_keys SET last_used = ? WHERE id = ?`, micros(at), id); err != nil {
		return fmt.Errorf("touch ssh key: %w", err)
	}
	return nil
}
