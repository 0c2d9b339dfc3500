package auth

import (
	"time"

	"github.com/anavara/anavara/ratelimit"
)

// Limits are the rate-limit rules of the authentication endpoints.
type Limits struct {
	LoginPerIPAndEmail ratelimit.Rule
	SignupPerIP        ratelimit.Rule
	ForgotPerEmail     ratelimit.Rule
	ForgotPerIP        ratelimit.Rule
	ResetPerEmail      ratelimit.Rule
	RefreshPerIP       ratelimit.Rule
	// ChangePasswordPerUser bounds guesses of current_password by someone
	// holding a stolen access token.
	ChangePasswordPerUser ratelimit.Rule
	// SSHConnectionsPerIP bounds new SSH connections per client address,
	// counted at /api/auth/ssh-connection for the separate SSH front ends
	// (ssh-serve), in the bucket serve's built-in front end uses too.
	SSHConnectionsPerIP ratelimit.Rule
	// LoginFailuresPerAccount blocks logins to one email, from every
	// address, after repeated failures: guessing spread over many
	// addresses escapes LoginPerIPAndEmail but not this. It is keyed by
	// the email whether or not an account has it, so its answers reveal
	// nothing; a successful login or password reset clears it.
	LoginFailuresPerAccount ratelimit.BackoffRule
}

// DefaultLimits are the production rate limits.
var DefaultLimits = Limits{
	LoginPerIPAndEmail:    ratelimit.Rule{Limit: 10, Window: time.Minute},
	SignupPerIP:           ratelimit.Rule{Limit: 20, Window: time.Hour},
	ForgotPerEmail:        ratelimit.Rule{Limit: 3, Window: 15 * time.Minute},
	ForgotPerIP:           ratelimit.Rule{Limit: 20, Window: 15 * time.Minute},
	ResetPerEmail:         ratelimit.Rule{Limit: 10, Window: 15 * time.Minute},
	RefreshPerIP:          ratelimit.Rule{Limit: 120, Window: time.Minute},
	ChangePasswordPerUser: ratelimit.Rule{Limit: 10, Window: 15 * time.Minute},
	SSHConnectionsPerIP:   ratelimit.Rule{Limit: 30, Window: time.Minute},
	// Short and growing blocks (1, 2, 4, 8, then 15 minutes): an attacker
	// can delay the owner's next login, not lock them out for long, and is
	// held to about 20 guesses per 15 minutes per account.
	LoginFailuresPerAccount: ratelimit.BackoffRule{Threshold: 20, Window: 15 * time.Minute, Base: time.Minute, Max: 15 * time.Minute},
}

// SSHConnectLimit names the per-address limit of new SSH connections in
// every ratelimit.Store: the SSH front end built into serve asks its store
// for it directly, and the API applies it for the separate front ends
// (anavara ssh-serve) at /api/auth/ssh-connection, so that on PostgreSQL
// all of them draw on one bucket per client address.
const SSHConnectLimit = "ssh-connect"

// Limiters are the counters of the authentication endpoints and the
// per-account login back-off, each under its name in the limits' store:
// on PostgreSQL every instance on the database shares each one by name.
type Limiters struct {
	// Login counts logins per client address and email.
	Login ratelimit.Counter
	// Signup counts sign-ups per client address.
	Signup ratelimit.Counter
	// ForgotEmail and ForgotIP count forgot-password requests per email
	// and per client address.
	ForgotEmail ratelimit.Counter
	ForgotIP    ratelimit.Counter
	// Reset counts password resets per email.
	Reset ratelimit.Counter
	// Refresh counts token refreshes per client address.
	Refresh ratelimit.Counter
	// ChangePassword counts password changes per account.
	ChangePassword ratelimit.Counter
	// SSHConnect counts new SSH connections per client address.
	SSHConnect ratelimit.Counter
	// AccountBackoff blocks logins to an email after repeated failures.
	AccountBackoff ratelimit.Throttle
}

// NewLimiters builds the limiters with limits' rules, their state in
// store, on the clock now.
func NewLimiters(store ratelimit.Store, limits Limits, now func() time.Time) *Limiters {
	return &Limiters{
		Login:          store.Limiter("login", limits.LoginPerIPAndEmail, now),
		Signup:         store.Limiter("signup", limits.SignupPerIP, now),
		ForgotEmail:    store.Limiter("forgot-email", limits.ForgotPerEmail, now),
		ForgotIP:       store.Limiter("forgot-ip", limits.ForgotPerIP, now),
		Reset:          store.Limiter("reset", limits.ResetPerEmail, now),
		Refresh:        store.Limiter("refresh", limits.RefreshPerIP, now),
		ChangePassword: store.Limiter("change-password", limits.ChangePasswordPerUser, now),
		SSHConnect:     store.Limiter(SSHConnectLimit, limits.SSHConnectionsPerIP, now),
		AccountBackoff: store.Backoff("login-account", limits.LoginFailuresPerAccount, now),
	}
}
