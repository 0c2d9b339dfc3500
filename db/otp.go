package db

import (
	"time"
)

// OTPCode is a stored password-reset code. Only a keyed hash of the code is
// kept, since six digits alone are trivial to brute-force from a plain hash.
type OTPCode struct {
	ID        string
	UserID    string
	Hash      []byte
	Created   time.Time
	ExpiresAt time.Time
	Attempts  int
	UsedAt    *time.Time
}
