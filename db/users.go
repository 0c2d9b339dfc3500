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
}
