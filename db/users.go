package db

import (
	"github.com/anavara/anavara/model"
)

// UserRow is a user as stored: the API's view plus the secrets only the
// server reads.
type UserRow struct {
	model.User
	PasswordHash string
	// TokenVersion invalidates access tokens minted before the last
	// password change.
	TokenVersion int64
}

// UserFilter narrows ListUsers.
type UserFilter struct {
	// OnlyID, when set, limits the list to that one user.
	OnlyID   string
	Search   string
	IsStaff  *bool
	IsActive *bool
	Limit    int
	Offset   int
	// Seek, when set, starts the page at a row's place in the list's
	// order instead of at Offset, which is then 0 (keyset pagination). The
	// count is then always the number of rows matching the filters, on
	// every page.
	Seek *Seek
}
