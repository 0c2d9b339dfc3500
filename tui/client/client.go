// Package client is the typed Go client of the Anavara HTTP API, used by the
// terminal UI and by scripts. A Client holds the caller's token pair, sends
// the access token on authenticated calls and, when the server answers 401,
// rotates the refresh token once (shared by concurrent callers) and retries.
//
// Every non-2xx answer is an [*APIError]; a request that got no answer at all
// is an [*UnreachableError]. Both are wrapped with the operation's name, so
// use errors.As or [IsStatus] to inspect them.
package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/anavara/anavara/model"
)

// defaultTimeout bounds each request when Options.Timeout is zero.
const defaultTimeout = 15 * time.Second

// Options configure New.
type Options struct {
	// BaseURL is where the API is served, e.g. http://localhost:8080 (no
	// trailing slash needed). It may carry a path prefix when the server sits
	// behind a reverse proxy.
	BaseURL string
	// HTTPClient sends the requests; nil means a client with Timeout.
	HTTPClient *http.Client
	// Timeout bounds each request, including reading its answer; default 15s.
	Timeout time.Duration
	// OnTokens is called (synchronously, after the client stored them)
	// whenever the client obtains a new token pair: login, signup, refresh,
	// change-password, ssh-login; and with an empty pair after Logout or when
	// the server rejects the refresh token. The TUI persists refresh tokens
	// with it. Calls never overlap and arrive in the order the pairs were
	// stored. It must not call methods that obtain tokens (Login, Signup,
	// Refresh, ChangePassword, Logout); Tokens and SetTokens are fine.
	OnTokens func(model.TokenPair)
	// Store, when set, is where the pair is kept for other processes signed
	// in through the same store: every pair the client obtains is written
	// there, and a refresh first looks there, under the store's lock, for a
	// newer pair another process already obtained (see TokenStore). Nil (an
	// SSH session) keeps the pair in this client only.
	Store TokenStore
	// Forwarded, when set, makes every request speak for another client:
	// the SSH front end sets it for each session, so that the API audits
	// and rate-limits the session's own address instead of the front
	// end's (see Forwarding).
	Forwarded *Forwarding
}

// Forwarding is what a trusted front end sends with every request it
// makes for one of its clients: its service credential, without which the
// API ignores the address, and the client's address.
type Forwarding struct {
	// ServiceToken is the front end's service credential.
	ServiceToken string
	// ClientAddress is the client's IP address, e.g. 192.0.2.7 or
	// 2001:db8::7.
	ClientAddress string
}

// Client talks to one Anavara server on behalf of one user. It is safe for
// concurrent use.
type Client struct {
	base string // absolute URL without a trailing slash
	http *http.Client
	// stream is http without its overall timeout, for answers streamed
	// for as long as they take (exports): the per-request timeout bounds
	// only their wait for the headers.
	stream   *http.Client
	timeout  time.Duration
	onTokens func(model.TokenPair)
	store    TokenStore
	// forward holds the headers of Options.Forwarded, nil without it.
	forward http.Header

	// notifyMu serialises storing a pair together with its OnTokens call, so
	// the callback sees pairs in the order they were stored.
	notifyMu sync.Mutex

	// mu guards tokens and inflight.
	mu       sync.Mutex
	tokens   model.TokenPair
	inflight *refreshCall
}

// New returns a client of the server at opts.BaseURL. It fails when BaseURL
// is not an absolute http or https URL.
func New(opts Options) (*Client, error) {
	base, err := parseBaseURL(opts.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("new anavara client: %w", err)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: timeout}
	}
	stream := *hc
	stream.Timeout = 0
	c := &Client{base: base, http: hc, stream: &stream, timeout: timeout, onTokens: opts.OnTokens, store: opts.Store}
	if f := opts.Forwarded; f != nil {
		if f.ServiceToken == "" || f.ClientAddress == "" {
			return nil, errors.New("new anavara client: forwarding needs a service token and a client address")
		}
		c.forward = http.Header{headerServiceToken: {f.ServiceToken}, headerClientAddress: {f.ClientAddress}}
	}
	return c, nil
}

// parseBaseURL checks raw is an absolute http(s) URL and returns it without
// a trailing slash, ready to have API paths appended.
func parseBaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("base URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("base URL %q: want an absolute http:// or https:// URL", raw)
	}
	if u.Host == "" {
		return "", fmt.Errorf("base URL %q: no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", fmt.Errorf("base URL %q: must not have a query or fragment", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	if u.Path == "/api" || strings.HasSuffix(u.Path, "/api") {
		// Every path the client asks for starts with /api already.
		return "", fmt.Errorf("base URL %q: give the server's address without /api (the client adds it), e.g. %s://%s%s",
			raw, u.Scheme, u.Host, strings.TrimSuffix(u.Path, "/api"))
	}
	return u.String(), nil
}

// BaseURL returns the server's base URL without a trailing slash.
func (c *Client) BaseURL() string { return c.base }

// SetTokens replaces the stored token pair, e.g. with a refresh token saved
// by an earlier session and an empty access token (the next authenticated
// call then refreshes first). It does not call OnTokens nor write the
// TokenStore.
func (c *Client) SetTokens(p model.TokenPair) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokens = p
}

// Tokens returns the stored token pair.
func (c *Client) Tokens() model.TokenPair {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tokens
}

// adopt stores p as the client's tokens, writes it to the TokenStore, if
// any, and reports it to OnTokens.
func (c *Client) adopt(ctx context.Context, p model.TokenPair) {
	c.notifyMu.Lock()
	defer c.notifyMu.Unlock()
	c.mu.Lock()
	held := c.tokens
	c.tokens = p
	c.mu.Unlock()
	c.save(ctx, p, held)
	c.notify(p)
}

// notify calls OnTokens, if set. The caller holds notifyMu.
func (c *Client) notify(p model.TokenPair) {
	if c.onTokens != nil {
		c.onTokens(p)
	}
}
