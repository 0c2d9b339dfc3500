package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

const sshKeyColumns = `id, user_id, name, type, fingerprint, public_key, created, last_used`

func scanSSHKey(row pgx.Row) (db.SSHKeyRow, error) {
	var k db.SSHKeyRow
	err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.Type, &k.Fingerprint, &k.PublicKey, &k.Created, &k.LastUsed)
	k.Created, k.LastUsed = k.Created.UTC(), utc(k.LastUsed)
	return k, err
}

// CreateSSHKey inserts k; db.ErrConflict means the key is linked already.
// ON CONFLICT DO NOTHING keeps the transaction usable after a conflict, as
// on SQLite (see CreateUser).
func (t *tx) CreateSSHKey(ctx context.Context, k db.SSHKeyRow) error {
	id, err := idArg("insert ssh key: id", k.ID)
	if err != nil {
		return err
	}
	userID, err := idArg("insert ssh key: user id", k.UserID)
	if err != nil {
		return err
	}
	tag, err := t.q.Exec(ctx, `INSERT INTO ssh_keys (`+sshKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)
		ON CONFLICT DO NOTHING`,
		id, userID, k.Name, k.Type, k.Fingerprint, k.PublicKey, at(k.Created))
	if isUniqueViolation(err) {
		return db.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("insert ssh key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return db.ErrConflict
	}
	return nil
}

// SSHKeysOf lists a user's keys, oldest first.
func (r *reader) SSHKeysOf(ctx context.Context, userID string) ([]model.SSHKey, error) {
	if !validID(userID) {
		return []model.SSHKey{}, nil
	}
	rows, err := r.q.Query(ctx, `SELECT `+sshKeyColumns+` FROM ssh_keys WHERE user_id = $1 ORDER BY created, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list ssh keys: %w", err)
	}
	keys, err := collect(rows, 0, func(row pgx.Row) (model.SSHKey, error) {
		k, err := scanSSHKey(row)
		return k.SSHKey, err
	})
	if err != nil {
		return nil, fmt.Errorf("list ssh keys: %w", err)
	}
	return keys, nil
}

// SSHKeyByFingerprint returns the key with fingerprint, or db.ErrNotFound.
func (r *reader) SSHKeyByFingerprint(ctx context.Context, fingerprint string) (db.SSHKeyRow, error) {
	k, err := scanSSHKey(r.q.QueryRow(ctx, `SELECT `+sshKeyColumns+` FROM ssh_keys WHERE fingerprint = $1`+r.forUpdate, fingerprint))
	if err != nil {
		return db.SSHKeyRow{}, notFound(err, "select ssh key")
	}
	return k, nil
}

// DeleteSSHKey removes key id of userID; db.ErrNotFound if there is none.
func (t *tx) DeleteSSHKey(ctx context.Context, userID, id string) error {
	if !validID(userID) || !validID(id) {
		return db.ErrNotFound
	}
	tag, err := t.q.Exec(ctx, `DELETE FROM ssh_keys WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return fmt.Errorf("delete ssh key: %w", err)
	}
	return requireOneRow(tag)
}

// TouchSSHKey records that the key signed someone in at when.
func (t *tx) TouchSSHKey(ctx context.Context, id string, when time.Time) error {
	if !validID(id) {
		return nil // no such key: nothing to touch
	}
	if _, err := t.q.Exec(ctx, `UPDATE ssh_keys SET last_used = $1 WHERE id = $2`, at(when), id); err != nil {
		return fmt.Errorf("touch ssh key: %w", err)
	}
	return nil
}
