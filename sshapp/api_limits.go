package sshapp

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/tui/client"
)

// connectLimit names the per-address limit of new connections. It equals
// auth.SSHConnectLimit, the name under which the API applies the same
// limit for front ends that ask it (APILimits), so that serve's built-in
// front end and the API count one address in one bucket.
const connectLimit = "ssh-connect"

// APILimits is the ratelimit.Store of a front end without a database
// (anavara ssh-serve), whose limits would otherwise live in its own
// memory only, so that M front ends behind a load balancer let one
// address connect M times as often. Its connection limit checks this
// process's memory first, with the front end's own rule (cheap, and it
// bounds how many API calls one flooding address causes), then, when that
// allows, the API's shared limit (POST /api/auth/ssh-connection), which
// holds across every front end and, on PostgreSQL, every API instance.
// An API that gives no answer is an error of the limit, which admit lets
// the connection through on. Every other limit stays in memory.
type APILimits struct {
	local        ratelimit.Store
	api          *client.Client
	serviceToken string
}

var _ ratelimit.Store = (*APILimits)(nil)

// NewAPILimits returns the limits of a front end that asks the API at
// apiURL with serviceToken, over httpClient (nil: the client's default).
func NewAPILimits(apiURL, serviceToken string, httpClient *http.Client) (*APILimits, error) {
	c, err := client.New(client.Options{BaseURL: apiURL, HTTPClient: httpClient})
	if err != nil {
		return nil, fmt.Errorf("sshapp: API limits: %w", err)
	}
	return &APILimits{local: ratelimit.Memory{}, api: c, serviceToken: serviceToken}, nil
}

// Limiter returns the connection limit described on APILimits for the
// name connectLimit, and an in-memory limiter for any other.
func (a *APILimits) Limiter(name string, rule ratelimit.Rule, now func() time.Time) ratelimit.Counter {
	local := a.local.Limiter(name, rule, now)
	if name != connectLimit {
		return local
	}
	return &apiConnectLimit{local: local, limits: a}
}

// Backoff returns an in-memory back-off: the API has none to share for
// front ends.
func (a *APILimits) Backoff(name string, rule ratelimit.BackoffRule, now func() time.Time) ratelimit.Throttle {
	return a.local.Backoff(name, rule, now)
}

// apiConnectLimit is the connection limit of APILimits.
type apiConnectLimit struct {
	local  ratelimit.Counter
	limits *APILimits
}

// Allow checks key, a client's IP address, against the local rule, then
// against the API's.
func (l *apiConnectLimit) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	ok, retry, err := l.local.Allow(ctx, key)
	if err != nil || !ok {
		return ok, retry, err
	}
	// The API keys its limit by the address as it parses it: unmapped and
	// without a zone, so one client has one bucket whoever asks.
	addr, err := netip.ParseAddr(key)
	if err != nil {
		return false, 0, fmt.Errorf("ssh connection limit: client address %q: %w", key, err)
	}
	addr = addr.Unmap().WithZone("")
	ok, retry, err = l.limits.api.AdmitSSHConnection(ctx, l.limits.serviceToken, addr.String())
	if err != nil {
		return false, 0, fmt.Errorf("ssh connection limit at the API: %w", err)
	}
	return ok, retry, nil
}
