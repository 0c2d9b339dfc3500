package db

import (
	"time"
)

// RefreshToken is a stored refresh token. Only its SHA-256 hash is kept.
type RefreshToken struct {
	ID     string
	UserID string
	// FamilyID groups every token rotated from one login, so reuse of any
	// of them revokes them all.
	FamilyID  string
	Hash      []byte
	Created   time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
	// RotatedBy is the fingerprint of the client that rotated the token
	// (set with UsedAt), ChildID the token that rotation issued, and
	// GraceUsedAt when a replay was answered within the grace window:
	// what the server needs to tell a racing or retrying owner from a
	// thief (server/authentication.go, refreshToken).
	RotatedBy   []byte
	ChildID     string
	GraceUsedAt *time.Time
}
