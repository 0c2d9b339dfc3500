package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

const userColumns = `id, email, first_name, last_name, password_hash, is_staff, is_active, token_version, created, updated, version`

func scanUser(row pgx.Row) (db.UserRow, error) {
	var u db.UserRow
	err := row.Scan(&u.ID, &u.Email, &u.FirstName, &u.LastName, &u.PasswordHash,
		&u.IsStaff, &u.IsActive, &u.TokenVersion, &u.Created, &u.Updated, &u.Version)
	u.Created, u.Updated = u.Created.UTC(), u.Updated.UTC()
	return u, err
}

// announceUser ends an UPDATE of a user row that another process may have
// cached (auth/user_cache.go): the active and staff flags, the token
// version. It announces the change on usersChannel (listener.go) from
// inside the transaction, so the announcement leaves only if the change
// commits, and when it does; for the updated row only, so an update that
// found no one announces nothing; and in the same statement, at no round
// trip of its own. The payload is the user's id and, after a space, the
// transaction's request for acknowledgements (announce.go), parameter n of
// the statement: one per transaction, so PostgreSQL still folds identical
// announcements of one transaction into one.
func announceUser(n int) string {
	return ` RETURNING pg_notify('` + usersChannel + `', id::text || ' ' || $` + strconv.Itoa(n) + `)`
}

// CreateUser inserts u; db.ErrConflict when the email (or the id) is
// taken. ON CONFLICT DO NOTHING rather than a caught unique violation: an
// error would abort the whole transaction, where SQLite's fails only the
// statement and lets the caller carry on.
func (t *tx) CreateUser(ctx context.Context, u db.UserRow) error {
	id, err := idArg("insert user: id", u.ID)
	if err != nil {
		return err
	}
	t.markUsersWritten()
	tag, err := t.q.Exec(ctx, `INSERT INTO users (`+userColumns+`, search_text)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
		id, u.Email, u.FirstName, u.LastName, u.PasswordHash, u.IsStaff, u.IsActive, u.TokenVersion,
		at(u.Created), at(u.Updated), int64(1), db.UserSearchText(u.User))
	if isUniqueViolation(err) {
		return db.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return db.ErrConflict
	}
	return nil
}

// UserByID returns the user with id, or db.ErrNotFound.
func (r *reader) UserByID(ctx context.Context, id string) (db.UserRow, error) {
	if !validID(id) {
		return db.UserRow{}, db.ErrNotFound
	}
	u, err := scanUser(r.q.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`+r.forUpdate, id))
	if err != nil {
		return db.UserRow{}, notFound(err, "select user")
	}
	return u, nil
}

// UserByEmail returns the user with email, compared case-insensitively
// (through the unique index on lower(email)), or db.ErrNotFound.
func (r *reader) UserByEmail(ctx context.Context, email string) (db.UserRow, error) {
	u, err := scanUser(r.q.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1)`+r.forUpdate, email))
	if err != nil {
		return db.UserRow{}, notFound(err, "select user by email")
	}
	return u, nil
}

// UpdateUser stores u's names, staff and active flags and updated time;
// db.ErrNotFound when there is no such user.
func (t *tx) UpdateUser(ctx context.Context, u model.User) error {
	if !validID(u.ID) {
		return db.ErrNotFound
	}
	t.markUsersWritten()
	tag, err := t.q.Exec(ctx,
		// The email part of search_text is the stored one's: UpdateUser
		// does not change the email, whatever u.Email holds.
		`UPDATE users SET first_name = $1, last_name = $2, is_staff = $3, is_active = $4, updated = $5, version = version + 1,
			search_text = split_part(search_text, E'\x1f', 1) || E'\x1f' || $6 WHERE id = $7`+announceUser(8),
		u.FirstName, u.LastName, u.IsStaff, u.IsActive, at(u.Updated), db.UserNamesSearchText(u), u.ID, t.announcement())
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	return t.announcedBy(tag, u.ID)
}

// SetPassword stores a new password hash and bumps the user's token
// version, so every access token issued before now stops working.
func (t *tx) SetPassword(ctx context.Context, id, hash string, when time.Time) error {
	if !validID(id) {
		return db.ErrNotFound
	}
	t.markUsersWritten()
	tag, err := t.q.Exec(ctx,
		`UPDATE users SET password_hash = $1, token_version = token_version + 1, updated = $2, version = version + 1 WHERE id = $3`+announceUser(4),
		hash, at(when), id, t.announcement())
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return t.announcedBy(tag, id)
}

// InvalidateAccessTokens bumps the user's token version, so every access
// token issued to them before now stops working for good.
func (t *tx) InvalidateAccessTokens(ctx context.Context, id string) error {
	if !validID(id) {
		return db.ErrNotFound
	}
	t.markUsersWritten()
	tag, err := t.q.Exec(ctx, `UPDATE users SET token_version = token_version + 1 WHERE id = $1`+announceUser(2), id, t.announcement())
	if err != nil {
		return fmt.Errorf("invalidate access tokens: %w", err)
	}
	return t.announcedBy(tag, id)
}

// ListUsers returns one page of users, oldest first (id breaking ties),
// and the number matching f.
func (r *reader) ListUsers(ctx context.Context, f db.UserFilter) ([]model.User, int, error) {
	var w where
	if f.OnlyID != "" {
		if !validID(f.OnlyID) {
			return []model.User{}, 0, nil
		}
		w.add("id = ", f.OnlyID)
	}
	if f.Search != "" {
		w.add("search_text LIKE ", db.LikePattern(f.Search), ` ESCAPE '\'`)
	}
	if f.IsStaff != nil {
		w.add("is_staff = ", *f.IsStaff)
	}
	if f.IsActive != nil {
		w.add("is_active = ", *f.IsActive)
	}
	count := where{conds: slices.Clone(w.conds), args: slices.Clone(w.args)}
	if err := w.seek("created", "id", f.Seek, false); err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	dir := direction(f.Seek, false)
	page, args := w.page("created "+dir+", id "+dir, f.Limit, f.Offset)
	rows, err := r.q.Query(ctx, `SELECT `+userColumns+` FROM users`+w.sql()+page, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	users, err := collect(rows, db.PageCapacity(f.Limit), func(row pgx.Row) (model.User, error) {
		u, err := scanUser(row)
		return u.User, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	users, total, err := pageTotal(ctx, r.q, users, f.Limit, f.Offset, f.Seek != nil, `SELECT count(*) FROM users`+count.sql(), count.args)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	return db.InListOrder(users, f.Seek), total, nil
}

// where builds a WHERE clause from conditions and their parameters.
type where struct {
	conds []string
	args  []any
}

// add appends the condition before + $n + after, $n standing for arg.
func (w *where) add(before string, arg any, after ...string) {
	w.args = append(w.args, arg)
	w.conds = append(w.conds, before+"$"+strconv.Itoa(len(w.args))+strings.Join(after, ""))
}

// sql is the clause, " WHERE …", or "" when there is no condition.
func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// page returns the ORDER BY clause order followed by a page's LIMIT and
// OFFSET, and the page query's parameters: w's, then a limit one past the
// page, which tells pageTotal whether the page is the last, and the offset.
// w.args stay as they are, for the count query.
func (w *where) page(order string, limit, offset int) (string, []any) {
	n := len(w.args)
	args := append(append([]any(nil), w.args...), limit+1, offset)
	return " ORDER BY " + order + " LIMIT $" + strconv.Itoa(n+1) + " OFFSET $" + strconv.Itoa(n+2), args
}
