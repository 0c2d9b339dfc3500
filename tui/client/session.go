package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/anavara/anavara/model"
)

// refreshCall is one refresh in flight; every caller that needs a fresh
// access token while it runs waits for it instead of starting another, since
// the server treats a second use of a rotated refresh token as theft and
// revokes the whole sign-in.
type refreshCall struct {
	done chan struct{} // closed when err is set and the tokens are stored
	err  error
}

// doAuth performs an authenticated call. Without an access token but with a
// refresh token it refreshes first; on 401 with a refresh token stored it
// refreshes once and retries once. When the server rejects the refresh
// token, the tokens are cleared and the original 401 is returned.
func (c *Client) doAuth(ctx context.Context, method, path string, query url.Values, in, out any) error {
	r, err := newRequest(method, path, query, in)
	if err != nil {
		return err
	}
	return c.sendAuth(ctx, r, out)
}

// doAuthIf is doAuth with If-Match naming version (none when 0).
func (c *Client) doAuthIf(ctx context.Context, method, path string, version int64, in, out any) error {
	r, err := newRequest(method, path, nil, in)
	if err != nil {
		return err
	}
	if version != 0 {
		r.header = http.Header{"If-Match": {ETag(version)}}
	}
	return c.sendAuth(ctx, r, out)
}

// sendAuth sends r as doAuth describes.
func (c *Client) sendAuth(ctx context.Context, r request, out any) error {
	return c.withAuth(ctx, func(access string) error { return c.send(ctx, r, access, out) })
}

// withAuth runs attempt with the access token as doAuth describes: after
// refreshing first when only a refresh token is stored, and once more
// after a refresh when it fails with 401.
func (c *Client) withAuth(ctx context.Context, attempt func(access string) error) error {
	tokens := c.Tokens()
	if tokens.AccessToken == "" && tokens.RefreshToken != "" {
		if err := c.refresh(ctx, "", false); err != nil {
			return err
		}
		tokens = c.Tokens()
	}
	err := attempt(tokens.AccessToken)
	if !IsStatus(err, http.StatusUnauthorized) || tokens.AccessToken == "" || c.Tokens().RefreshToken == "" {
		return err
	}
	if rerr := c.refresh(ctx, tokens.AccessToken, false); rerr != nil {
		if isRejection(rerr) {
			return err
		}
		return rerr
	}
	return attempt(c.Tokens().AccessToken)
}

// refresh obtains a new token pair with the stored refresh token, sharing
// one request among concurrent callers. Unless force is set, it does nothing
// when the stored access token is no longer stale (another caller already
// refreshed it). It returns nil once fresh tokens are stored.
//
// The request itself is detached from ctx: if the caller gives up while the
// server rotates the token, the new pair is still stored, so the next
// refresh does not present a rotated token and sign everyone out.
func (c *Client) refresh(ctx context.Context, stale string, force bool) error {
	c.mu.Lock()
	if !force && c.tokens.AccessToken != "" && c.tokens.AccessToken != stale {
		c.mu.Unlock()
		return nil
	}
	call := c.inflight
	if call == nil {
		if c.tokens.RefreshToken == "" {
			c.mu.Unlock()
			return errors.New("refresh tokens: no refresh token is stored; log in first")
		}
		call = &refreshCall{done: make(chan struct{})}
		c.inflight = call
		go c.runRefresh(context.WithoutCancel(ctx), call, c.tokens)
	}
	c.mu.Unlock()

	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return fmt.Errorf("refresh tokens: %w", ctx.Err())
	}
}

// runRefresh presents the refresh token of held to the server (with a
// TokenStore: the newest one of the account stored there) and stores the
// answer: the new pair, or no tokens at all when the server rejected it.
// Either is stored only if the client still holds that token, so a login or
// logout that happened meanwhile wins.
func (c *Client) runRefresh(ctx context.Context, call *refreshCall, held model.TokenPair) {
	token := held.RefreshToken
	var pair model.TokenPair
	var err error
	if c.store != nil {
		// Held across the shared refresh so that a sign-in made meanwhile
		// in this process writes the store after it, not before.
		c.notifyMu.Lock()
		pair, err = c.refreshShared(ctx, held)
	} else {
		pair, err = c.exchange(ctx, token)
		c.notifyMu.Lock()
	}

	c.mu.Lock()
	c.inflight = nil
	current := c.tokens.RefreshToken == token
	var store bool
	switch {
	case err == nil && current:
		c.tokens, store = pair, true
	case isRejection(err) && current:
		c.tokens, pair, store = model.TokenPair{}, model.TokenPair{}, true
	}
	c.mu.Unlock()
	if store {
		c.notify(pair)
	}
	c.notifyMu.Unlock()

	if err != nil {
		err = fmt.Errorf("refresh tokens: %w", err)
	}
	call.err = err
	close(call.done)
}

// exchange presents token to the server and returns the pair it answers.
func (c *Client) exchange(ctx context.Context, token string) (model.TokenPair, error) {
	var pair model.TokenPair
	err := c.do(ctx, http.MethodPost, "/api/auth/token/refresh", nil, map[string]string{"refresh_token": token}, &pair)
	if err == nil && (pair.AccessToken == "" || pair.RefreshToken == "") {
		err = errors.New("the server answered without a token pair")
	}
	return pair, err
}
