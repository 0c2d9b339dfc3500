package model

import "time"

// SSHTokenTTL is how long an access token minted for an SSH key (ssh host
// token) lasts: long enough for one scripted job, short enough that a
// leaked one is soon worthless. There is no refresh token; a job asks
// again.
const SSHTokenTTL = 15 * time.Minute

// ScopedAccessToken is a short-lived access token minted without a
// refresh token, for a script: the answer of POST /api/auth/ssh-token.
type ScopedAccessToken struct {
	AccessToken string `json:"access_token"`
	// TokenType is always "Bearer".
	TokenType string `json:"token_type"`
	// ExpiresIn is the token's lifetime in seconds.
	ExpiresIn int       `json:"expires_in"`
	Expires   time.Time `json:"expires"`
	// Scopes are what the token may do (AllScopes), never more than its
	// account may do when it is used.
	Scopes []string `json:"scopes"`
}
