package db

import (
	"errors"
)

// Errors callers map to API responses.
var (
	// ErrNotFound means the row does not exist (or the caller may not see it).
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique value is already taken.
	ErrConflict = errors.New("conflict")
	// ErrSuperseded means a newer password-reset code exists already, so
	// the older request's code is not issued (Tx.CreateOTP).
	ErrSuperseded = errors.New("superseded by a newer code")
)
