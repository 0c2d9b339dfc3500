package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/anavara/anavara/audit"
	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/password"
	"github.com/anavara/anavara/ratelimit"
)

// Config holds everything the API server needs besides its store and mailer.
type Config struct {
	// JWTKeys sign and verify access tokens and key the reset-code
	// hashes: the first signs (and keys new codes), every one verifies, so
	// a key can be rotated without signing anyone out. Each secret has at
	// least auth.MinJWTSecretLen bytes and the ids differ.
	JWTKeys []auth.JWTKey
	// JWTSecret is the one key when JWTKeys is empty, its id auth.KeyID(JWTSecret).
	JWTSecret []byte
	// AccessTTL, RefreshTTL and OTPTTL are token and code lifetimes.
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	OTPTTL     time.Duration
	// PasswordParams are the argon2id costs for new hashes when Hasher is
	// nil.
	PasswordParams password.Params
	// Hasher runs every password hash and verification, a bounded number
	// at once (requests that cannot get a slot in time answer 503); nil
	// means one with PasswordParams and password.HasherOptions' defaults.
	Hasher *password.Hasher
	// Limits rate-limit the authentication endpoints.
	Limits auth.Limits
	// RateLimits keeps the limits' state; nil means the store's
	// (db.RateLimits: in the database on PostgreSQL, so that the limits
	// hold across every instance on it; in memory on SQLite).
	RateLimits ratelimit.Store
	// ReadAudit commits the audit events of reads of records; nil means
	// one on the server's store with audit.Options' defaults. It must
	// write to the same store.
	ReadAudit *audit.Writer
	// ServiceTokens authorise trusted internal callers (the SSH front end)
	// at /api/auth/ssh-login, ssh-key-check and ssh-connection: each one is accepted (the
	// current and the next, during a rotation). ServiceToken, when set, is
	// accepted too. None disables those endpoints.
	ServiceTokens []string
	ServiceToken  string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (see resolveOrigin) and whose X-Forwarded-Proto and
	// X-Forwarded-Host may shape links without PublicURL. None (the
	// default) trusts no such header: the client address is the socket
	// peer's, or what a service caller forwards.
	TrustedProxies []netip.Prefix
	// PublicURL, when set, is the scheme, host and any path prefix of
	// the absolute links the API answers (a page's next and previous):
	// an absolute http or https URL without query or fragment (see
	// ParsePublicURL). Without it links name the listener's address.
	PublicURL string
	// ResetPollInterval is how often the reset-code worker looks in the
	// outbox for requests it was not woken for: left by a process that
	// stopped before serving them, or accepted by another instance on the
	// database. Default 1 s.
	ResetPollInterval time.Duration
	// IdempotencyWait is how long a request with an Idempotency-Key waits
	// for another request with the same key, still running, to finish
	// before it answers 409 (server/idempotency.go). Default 10 s.
	IdempotencyWait time.Duration
	// Now is the clock; tests move it.
	Now func() time.Time
	// Logger receives request and error logs. It never sees secrets.
	Logger *slog.Logger
	// Metrics, when set, is told about every finished request (see
	// RequestObserver); nil records nothing.
	Metrics RequestObserver
}

// RequestObserver records finished requests, for instance as Prometheus
// metrics, without the server depending on a metrics library.
type RequestObserver interface {
	// ObserveRequest is called once per request, after the handlers ran,
	// with its method, its route pattern (/api/medical-records/:id; see
	// UnmatchedRoute), the final status and how long it took. The strings
	// are the observer's to keep.
	ObserveRequest(method, route string, status int, d time.Duration)
}

// maxOTPAttempts is how many wrong guesses void a reset code.
const maxOTPAttempts = 5

// withDefaults fills unset fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	switch {
	case len(c.JWTKeys) > 0 && c.JWTSecret != nil:
		return c, errors.New("server config: set JWTKeys or JWTSecret, not both")
	case len(c.JWTKeys) == 0:
		c.JWTKeys = []auth.JWTKey{{ID: auth.KeyID(c.JWTSecret), Secret: c.JWTSecret}}
	}
	if err := auth.CheckJWTKeys(c.JWTKeys); err != nil {
		return c, fmt.Errorf("server config: JWT keys: %w", err)
	}
	var tokens []string
	if c.ServiceToken != "" {
		tokens = append(tokens, c.ServiceToken)
	}
	for _, t := range c.ServiceTokens {
		if t == "" {
			return c, errors.New("server config: an empty service token")
		}
		tokens = append(tokens, t)
	}
	c.ServiceTokens = tokens
	public, err := ParsePublicURL(c.PublicURL)
	if err != nil {
		return c, fmt.Errorf("server config: public URL: %w", err)
	}
	c.PublicURL = public
	for _, p := range c.TrustedProxies {
		if !p.IsValid() {
			return c, errors.New("server config: an invalid trusted-proxy prefix")
		}
	}
	if c.AccessTTL <= 0 {
		c.AccessTTL = 15 * time.Minute
	}
	if c.RefreshTTL <= 0 {
		c.RefreshTTL = 7 * 24 * time.Hour
	}
	if c.OTPTTL <= 0 {
		c.OTPTTL = 5 * time.Minute
	}
	if c.PasswordParams == (password.Params{}) {
		c.PasswordParams = password.DefaultParams
	}
	if c.Hasher == nil {
		c.Hasher = password.NewHasher(password.HasherOptions{Params: c.PasswordParams})
	}
	if c.Limits == (auth.Limits{}) {
		c.Limits = auth.DefaultLimits
	}
	if c.ResetPollInterval <= 0 {
		c.ResetPollInterval = time.Second
	}
	if c.IdempotencyWait <= 0 {
		c.IdempotencyWait = 10 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
