package sqlite

import (
	"context"
	"fmt"
	"github.com/anavara/anavara/db"
	"strings"
	"time"

	"github.com/anavara/anavara/model"
)

const userColumns = `id, email, first_name, last_name, password_hash, is_staff, is_active, token_version, created, updated, version`

func scanUser(row interface{ Scan(...any) error }) (db.UserRow, error) {
	var u db.UserRow
	var created, updated int64
	err := row.Scan(&u.ID, &u.Email, &u.FirstName, &u.LastName, &u.PasswordHash,
		&u.IsStaff, &u.IsActive, &u.TokenVersion, &created, &updated, &u.Version)
	u.Created, u.Updated = fromMicros(created), fromMicros(updated)
	return u, err
}

// CreateUser inserts u at version 1. It returns db.ErrConflict when the email is taken.
func (q *queries) CreateUser(ctx context.Context, u db.UserRow) error {
	q.markUsersWritten()
	_, err := q.q.ExecContext(ctx, `INSERT INTO users (`+userColumns+`, search_text) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		u.ID, u.Email, u.FirstName, u.LastName, u.PasswordHash, u.IsStaff, u.IsActive, u.TokenVersion,
		micros(u.Created), micros(u.Updated), 1, db.UserSearchText(u.User))
	if isUniqueViolation(err) {
		return db.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// UserByID returns the user with id, or db.ErrNotFound.
func (q *queries) UserByID(ctx context.Context, id string) (db.UserRow, error) {
	u, err := scanUser(q.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return db.UserRow{}, notFound(err, "select user")
	}
	return u, nil
}

// UserByEmail returns the user with email (compared case-insensitively), or
// db.ErrNotFound.
func (q *queries) UserByEmail(ctx context.Context, email string) (db.UserRow, error) {
	u, err := scanUser(q.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, email))
	if err != nil {
		return db.UserRow{}, notFound(err, "select user by email")
	}
	return u, nil
}

// UpdateUser stores u's names, staff and active flags and updated time.
func (q *queries) UpdateUser(ctx context.Context, u model.User) error {
	q.markUsersWritten()
	res, err := q.q.ExecContext(ctx,
		// The email part of search_text is the stored one's, up to and with
		// the separator: UpdateUser does not change the email, whatever
		// u.Email holds.
		`UPDATE users SET first_name = ?, last_name = ?, is_staff = ?, is_active = ?, updated = ?, version = version + 1,
			search_text = substr(search_text, 1, instr(search_text, char(31))) || ? WHERE id = ?`,
		u.FirstName, u.LastName, u.IsStaff, u.IsActive, micros(u.Updated), db.UserNamesSearchText(u), u.ID)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	return requireOneRow(res)
}

// SetPassword stores a new password hash and bumps the user's token
// version, so every access token issued before now stops working.
func (q *queries) SetPassword(ctx context.Context, id, hash string, at time.Time) error {
	q.markUsersWritten()
	res, err := q.q.ExecContext(ctx,
		`UPDATE users SET password_hash = ?, token_version = token_version + 1, updated = ?, version = version + 1 WHERE id = ?`,
		hash, micros(at), id)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return requireOneRow(res)
}

// InvalidateAccessTokens bumps the user's token version, so every access
// token issued to them before now stops working for good: unlike the
// active flag, the version never comes back.
func (q *queries) InvalidateAccessTokens(ctx context.Context, id string) error {
	q.markUsersWritten()
	res, err := q.q.ExecContext(ctx, `UPDATE users SET token_version = token_version + 1 WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("invalidate access tokens: %w", err)
	}
	return requireOneRow(res)
}

// ListUsers returns one page of users, oldest first, and the total count.
func (q *queries) ListUsers(ctx context.Context, f db.UserFilter) ([]model.User, int, error) {
	var where []string
	var args []any
	if f.OnlyID != "" {
		where = append(where, "id = ?")
		args = append(args, f.OnlyID)
	}
	if f.Search != "" {
		where = append(where, `search_text LIKE ? ESCAPE '\'`)
		args = append(args, db.LikePattern(f.Search))
	}
	if f.IsStaff != nil {
		where = append(where, "is_staff = ?")
		args = append(args, *f.IsStaff)
	}
	if f.IsActive != nil {
		where = append(where, "is_active = ?")
		args = append(args, *f.IsActive)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var count int
	if err := q.q.QueryRowContext(ctx, `SELECT count(*) FROM users`+cond, args...).Scan(&count); err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	seek, seekArgs, err := seekCondition("created", "id", f.Seek, false)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	if seek != "" {
		where = append(where, seek)
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	dir := direction(f.Seek, false)
	rows, err := q.q.QueryContext(ctx, `SELECT `+userColumns+` FROM users`+cond+` ORDER BY created `+dir+`, id `+dir+` LIMIT ? OFFSET ?`,
		append(append(append([]any(nil), args...), seekArgs...), f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	users := make([]model.User, 0, db.PageCapacity(f.Limit))
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("scan user: %w", err)
		}
		users = append(users, u.User)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	return db.InListOrder(users, f.Seek), count, nil
}
