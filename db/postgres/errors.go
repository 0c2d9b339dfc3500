package postgres

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/anavara/anavara/db"
)

// isUniqueViolation reports whether err is unique_violation (23505).
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// notFound turns pgx.ErrNoRows into db.ErrNotFound, and wraps anything
// else.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return db.ErrNotFound
	}
	return fmt.Errorf("%s: %w", what, err)
}

// requireOneRow returns db.ErrNotFound when tag says the statement changed
// no row.
func requireOneRow(tag pgconn.CommandTag) error {
	if tag.RowsAffected() == 0 {
		return db.ErrNotFound
	}
	return nil
}

// redactedPassword replaces a password in what Redact returns.
const redactedPassword = "xxxxx"

// Redact returns the connection URL u with its password, if any, replaced
// by "xxxxx", for logging: in the user part (postgres://ann:secret@…) and
// in a password parameter (…?password=secret). A keyword/value string
// (host=… password=…) has its password value replaced the same way. A URL
// that does not parse is not returned at all, since where its password
// sits cannot be told.
func Redact(u string) string {
	if !strings.Contains(u, "://") {
		return dsnPassword.ReplaceAllString(u, "${1}"+redactedPassword)
	}
	p, err := url.Parse(u)
	if err != nil {
		return "(a database URL that does not parse)"
	}
	if p.User != nil {
		if _, ok := p.User.Password(); ok {
			p.User = url.UserPassword(p.User.Username(), redactedPassword)
		}
	}
	if q := p.Query(); q.Has("password") {
		q.Set("password", redactedPassword)
		p.RawQuery = q.Encode()
	}
	return p.String()
}

// dsnPassword matches the password of a keyword/value connection string,
// quoted or not.
var dsnPassword = regexp.MustCompile(`(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// scrub returns err with every occurrence of password in its text replaced,
// keeping what it wraps for errors.Is and errors.As: the errors Open
// returns are logged, and a driver may quote its configuration.
func scrub(err error, password string) error {
	if err == nil || password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return &scrubbedError{msg: strings.ReplaceAll(err.Error(), password, redactedPassword), err: err}
}

// scrubbedError is an error whose text had a password removed.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
