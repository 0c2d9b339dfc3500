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
)
