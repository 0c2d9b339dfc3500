package postgres

import (
	"fmt"

	"github.com/google/uuid"
)

// Ids are uuid columns here and text on SQLite, and a client can send any
// string as an id: in a path, as the actor_id filter. PostgreSQL rejects
// such a string as a uuid parameter with an error (a 500), where SQLite
// simply finds no row. So every id is checked in Go first, and one that is
// not a canonical uuid never reaches the database: a lookup by it finds
// nothing, an update by it changes nothing, a list filtered by it is empty.

// validID reports whether s is a uuid in its canonical form: lower-case,
// hyphenated, 36 characters. Only that form: SQLite compares ids as text,
// so an upper-case or braced spelling of a stored id finds nothing there,
// and must find nothing here either.
func validID(s string) bool {
	_, ok := parseID(s)
	return ok
}

// parseID returns the uuid s spells, when s is one in the canonical form
// validID accepts.
func parseID(s string) (uuid.UUID, bool) {
	if len(s) != 36 {
		return uuid.UUID{}, false
	}
	u, err := uuid.Parse(s)
	return u, err == nil && u.String() == s
}

// idArg returns s as a uuid parameter for a write that stores it, or an
// error naming what: storing a malformed id is the caller's bug, not a
// missing row.
func idArg(what, s string) (string, error) {
	if !validID(s) {
		return "", fmt.Errorf("%s %q is not a uuid", what, s)
	}
	return s, nil
}

// optionalIDArg is idArg for a nullable column: nil stores NULL.
func optionalIDArg(what string, s *string) (*string, error) {
	if s == nil {
		return nil, nil
	}
	v, err := idArg(what, *s)
	if err != nil {
		return nil, err
	}
	return &v, nil
}
