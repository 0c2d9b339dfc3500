package model

import (
	"slices"
	"strings"
	"time"
)

// Scopes of API tokens: what a personal access token may do. A session
// (an access token from signing in, without a scope claim) may do all of
// it; a token never more than its account may do at the time of each
// request (ScopesAllowed).
const (
	ScopeRecordsRead  = "records:read"
	ScopeRecordsWrite = "records:write"
	ScopeUsersRead    = "users:read"
	ScopeUsersWrite   = "users:write"
	// ScopeAuditRead reads the audit trail and exports the population:
	// staff only, both when a token is created and at every use.
	ScopeAuditRead = "audit:read"
)

// AllScopes lists every scope, in the order documents list them.
var AllScopes = []string{ScopeRecordsRead, ScopeRecordsWrite, ScopeUsersRead, ScopeUsersWrite, ScopeAuditRead}

// Limits of API tokens.
const (
	// APITokenPrefix starts every API token's secret, so that secret
	// scanners (and the server) recognise one.
	APITokenPrefix = "anv_"
	// MaxAPITokenNameLength bounds a token's name.
	MaxAPITokenNameLength = 100
	// MaxAPITokenDays and DefaultAPITokenDays bound and default a token's
	// lifetime.
	MaxAPITokenDays     = 365
	DefaultAPITokenDays = 30
	// MaxLiveAPITokens bounds the tokens an account holds that are
	// neither revoked nor expired, so that a script creating one a run
	// (or a stolen session) cannot grow the table, and every listing of
	// it, without bound; expired tokens do not count.
	MaxLiveAPITokens = 100
)

// Validation messages of API tokens.
const (
	MsgScopesEmpty     = "Give at least one scope."
	MsgScopeStaffOnly  = "Only staff accounts may have the scope audit:read."
	MsgScopeDuplicate  = "Each scope may be given only once."
	MsgAPITokenExpires = "Ensure this value is a whole number of days between 1 and 365."
	MsgNotAList        = "Expected a list of items."
	// MsgTooManyAPITokens answers a token past MaxLiveAPITokens.
	MsgTooManyAPITokens = "This account already holds 100 API tokens that have not expired: revoke one before creating another."
	// MsgUnknownScope does not quote the scope given: an answer carries
	// nothing a caller typed back.
	MsgUnknownScope = "Unknown scope: use records:read, records:write, users:read, users:write or audit:read."
)

// SplitScopes reads scopes written as a command line takes them
// (--scopes records:read,records:write): separated by commas, spaces
// around each trimmed, empty ones dropped. ValidateScopes judges them.
func SplitScopes(s string) []string {
	var scopes []string
	for _, sc := range strings.Split(s, ",") {
		if sc = strings.TrimSpace(sc); sc != "" {
			scopes = append(scopes, sc)
		}
	}
	return scopes
}

// ScopeAllowed reports whether an account, as it is now, may hold scope:
// every account may hold every scope but audit:read, which is staff's.
func ScopeAllowed(scope string, isStaff bool) bool {
	if scope == ScopeAuditRead {
		return isStaff
	}
	return slices.Contains(AllScopes, scope)
}

// ScopesAllowed is the part of scopes an account may use now: a token of
// a staff account demoted since keeps its other scopes, not audit:read.
func ScopesAllowed(scopes []string, isStaff bool) []string {
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if ScopeAllowed(s, isStaff) {
			out = append(out, s)
		}
	}
	return out
}

// ValidateScopes checks the scopes asked for a new token of an account
// (staff or not), returning them in AllScopes order, or a message: at
// least one, each known, none twice, and audit:read only for staff.
func ValidateScopes(scopes []string, isStaff bool) ([]string, string) {
	if len(scopes) == 0 {
		return nil, MsgScopesEmpty
	}
	seen := make(map[string]bool, len(scopes))
	for _, s := range scopes {
		switch {
		case !slices.Contains(AllScopes, s):
			return nil, MsgUnknownScope
		case seen[s]:
			return nil, MsgScopeDuplicate
		case !ScopeAllowed(s, isStaff):
			return nil, MsgScopeStaffOnly
		}
		seen[s] = true
	}
	out := make([]string, 0, len(scopes))
	for _, s := range AllScopes {
		if seen[s] {
			out = append(out, s)
		}
	}
	return out, ""
}

// ValidateAPITokenName checks a token's trimmed name: not empty, at most
// MaxAPITokenNameLength characters, valid text.
func ValidateAPITokenName(s string) string { return validateLength(s, 1, MaxAPITokenNameLength) }

// ValidateAPITokenDays checks a token's lifetime in days.
func ValidateAPITokenDays(days int) string {
	if days < 1 || days > MaxAPITokenDays {
		return MsgAPITokenExpires
	}
	return ""
}

// APIToken is a personal access token as its owner and staff see it: never
// its secret, nor the secret's hash.
type APIToken struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Scopes  []string  `json:"scopes"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// LastUsed is when the token last authenticated a request, to the
	// minute (a use within a minute of the last one recorded is not
	// written); nil when never.
	LastUsed *time.Time `json:"last_used"`
}

// NewAPIToken is the answer to creating a token: the token and, this once,
// its secret.
type NewAPIToken struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Scopes  []string  `json:"scopes"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// Token is the secret, shown only in this answer.
	Token string `json:"token"`
}
