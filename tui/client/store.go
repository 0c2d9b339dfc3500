package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/anavara/anavara/model"
)

// TokenStore keeps a client's token pair where other processes signed in
// through the same store (two `anavara tui` windows with one config dir)
// find it. The client reads and writes it only through Update, under a lock
// that spans processes, because the server treats a second use of a rotated
// refresh token as theft: two processes must never both present the same
// one.
type TokenStore interface {
	// Update calls fn with the pair stored for server (the zero pair when
	// there is none) while holding a lock that excludes every other Update
	// on the same store, in this process or another. When fn returns write
	// true, next replaces the stored pair before the lock is released (the
	// zero pair deletes it), atomically: a reader sees the old pair or the
	// new one. Update waits for the lock at most until ctx is done. An error
	// from fn is returned as it is, and nothing is written.
	Update(ctx context.Context, server string, fn func(stored model.TokenPair) (next model.TokenPair, write bool, err error)) error
}

// adoptMargin is how long a pair another process stored must still have
// before its access token expires for this process to use it as it is,
// rather than refreshing it at once.
const adoptMargin = time.Second

// refreshShared is the refresh of a client with a TokenStore: under the
// store's lock it looks at the stored pair first. If another process has
// already stored a newer pair of the same account, that pair is used: as it
// is while its access token is good, else by refreshing its refresh token
// (never the older one held here, which that process has spent). What the
// server answers is stored before the lock is released, so the next process
// to look finds it; a rejected token is deleted only when it is the stored
// one.
func (c *Client) refreshShared(ctx context.Context, held model.TokenPair) (model.TokenPair, error) {
	lockCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var pair model.TokenPair
	var exchanged bool
	var rerr error
	err := c.store.Update(lockCtx, c.base, func(stored model.TokenPair) (model.TokenPair, bool, error) {
		present := held.RefreshToken
		if stored.RefreshToken != "" && stored.RefreshToken != held.RefreshToken && sameAccount(held.AccessToken, stored.AccessToken) {
			if usable(stored.AccessToken, time.Now()) {
				pair = stored
				return model.TokenPair{}, false, nil
			}
			present = stored.RefreshToken
		}
		pair, rerr = c.exchange(ctx, present)
		switch {
		case rerr == nil:
			exchanged = true
			return pair, true, nil
		case isRejection(rerr) && stored.RefreshToken == present:
			return model.TokenPair{}, true, nil
		}
		return model.TokenPair{}, false, nil
	})
	switch {
	case rerr != nil:
		return model.TokenPair{}, rerr
	case exchanged:
		// Failing to store it costs the other processes their sign-in at
		// their next refresh; this one has a good pair, so use it.
		return pair, nil
	case err != nil:
		return model.TokenPair{}, fmt.Errorf("shared sign-in: %w", err)
	}
	return pair, nil
}

// save writes p to the store (if there is one) after this process obtained
// it by signing in, or deletes the stored pair when p is empty (sign-out,
// or the server refused the sign-in) but only if it is still the sign-in
// this process held, or a newer pair of the same account: another window may
// have signed in afresh meanwhile. Saving is best effort, like remembering a
// sign-in always was: failing costs a sign-in at the next start.
func (c *Client) save(ctx context.Context, p, held model.TokenPair) {
	if c.store == nil {
		return
	}
	lockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	_ = c.store.Update(lockCtx, c.base, func(stored model.TokenPair) (model.TokenPair, bool, error) {
		if p.RefreshToken != "" {
			return p, true, nil
		}
		mine := stored.RefreshToken == held.RefreshToken || sameAccount(held.AccessToken, stored.AccessToken)
		return model.TokenPair{}, stored.RefreshToken != "" && mine, nil
	})
}

// accessClaims are the parts of an access token the client reads. It does
// not verify the signature (it cannot, and need not: the server does); it
// only reads its own stored tokens to decide whether they belong to the same
// account and are still worth sending.
type accessClaims struct {
	Subject string `json:"sub"`
	Expires int64  `json:"exp"`
}

// claims reads the payload of a JWT, or the zero claims when token is not
// one.
func claims(token string) accessClaims {
	var cl accessClaims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return cl
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return cl
	}
	_ = json.Unmarshal(payload, &cl)
	return cl
}

// sameAccount reports whether a stored access token belongs to the account
// this process is signed in to, as told by held, its own access token.
// Without an access token of its own (it has just started from the stored
// refresh token) any stored pair is the one it started from, moved on.
// Unknown stays unknown: a pair whose account cannot be read is not taken,
// so a window never silently becomes another user.
func sameAccount(held, stored string) bool {
	if held == "" {
		return true
	}
	h, s := claims(held).Subject, claims(stored).Subject
	return h != "" && h == s
}

// usable reports whether access has at least adoptMargin left at now.
func usable(access string, now time.Time) bool {
	exp := claims(access).Expires
	return exp != 0 && time.Unix(exp, 0).After(now.Add(adoptMargin))
}
