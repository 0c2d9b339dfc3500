package model

import "time"

// User is an account as the API shows it. It never carries a password hash.
type User struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	FirstName string    `json:"first_name"`
	LastName  string    `json:"last_name"`
	IsStaff   bool      `json:"is_staff"`
	IsActive  bool      `json:"is_active"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	// Version starts at 1 and grows by one with every change of the
	// account's row that its JSON shows (names, flags, the updated time a
	// password change sets). Not in the body: the API sends it as the ETag
	// header.
	Version int64 `json:"-"`
}

// FullName returns "First Last".
func (u User) FullName() string {
	if u.LastName == "" {
		return u.FirstName
	}
	return u.FirstName + " " + u.LastName
}

// Role names the user's role for display.
func (u User) Role() string {
	if u.IsStaff {
		return "staff"
	}
	return "patient"
}

// SSHKey is a public key that signs its owner in over SSH.
type SSHKey struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Type        string     `json:"type"`
	Fingerprint string     `json:"fingerprint"`
	Created     time.Time  `json:"created"`
	LastUsed    *time.Time `json:"last_used"`
}
