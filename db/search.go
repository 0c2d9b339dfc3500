package db

import (
	"strings"

	"github.com/anavara/anavara/model"
)

// Search and case-insensitive comparisons are folded in Go, the same way
// on every engine, so that both give the same answers whatever their
// collations: "élodie" finds "Élodie", "MÜLLER" finds "Dr. Müller".

// Fold lower-cases s for case-insensitive matching beyond ASCII.
func Fold(s string) string { return strings.ToLower(s) }

// UserSearchText is what a users search matches against: the folded
// email and names, joined by the unit separator (U+001F) so that a match
// cannot span two of them.
func UserSearchText(u model.User) string {
	return Fold(u.Email) + "\x1f" + UserNamesSearchText(u)
}

// UserNamesSearchText is the part of UserSearchText after the separator:
// the folded names. An update, which never changes the email, rewrites
// only this part, keeping the stored email's.
func UserNamesSearchText(u model.User) string { return Fold(u.FirstName + " " + u.LastName) }

// UserSearchText and LikePattern serve the users search, a substring
// match. The records search matches words instead (SearchWords).

// LikePattern makes a substring pattern for LIKE … ESCAPE '\' of the
// folded search s, escaping LIKE's wildcards so that they match literally.
func LikePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(Fold(s)) + "%"
}

// TrimPage trims rows, fetched with a limit one past the page, to the page.
// total is the number of matches when the page shows it (a last page, or
// a first page that is empty); otherwise needCount is true and the caller
// counts. That saves a count for every single-page list, which is most
// patients' records and most records' audit history.
func TrimPage[T any](rows []T, limit, offset int) (page []T, total int, needCount bool) {
	if len(rows) <= limit && (len(rows) > 0 || offset == 0) {
		return rows, offset + len(rows), false
	}
	if len(rows) > limit {
		rows = rows[:limit]
	}
	return rows, 0, true
}

// PageCapacity is the capacity for the rows of a page fetched one past
// limit: appending them never grows the slice again, and a huge limit
// reserves no more than a thousand rows up front.
func PageCapacity(limit int) int { return min(max(limit, 0)+1, 1001) }
