package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/ratelimit"
)

// When the limits' shared state (PostgreSQL's rate_limits tables) cannot be
// reached, the endpoint rate limits fail open: the request goes on, and a
// warning is logged, a line a minute at most. They bound how fast one
// client may try, and each request they let through still meets the
// password check, the reset code's own attempt counter and the database,
// which fails the request itself when it is really down; refusing every
// login and sign-up because one limiter query failed would turn a blip of
// the database into an outage of authentication.
//
// The per-account login back-off fails closed: a guess at an account's
// password is answered only when its failures could be counted, or the
// one limit that holds against guessing spread over many addresses would
// fall away whenever its queries do (and a login then could not work
// anyway: it reads the account from the same database). Only forgetting
// the failures after a successful login or reset is best-effort: the
// tokens are issued already, and a stale count at worst blocks the owner
// for one more short back-off.

// allow checks key against l, answering 429 when it is over the limit.
func (s *Server) allow(c *fiber.Ctx, l ratelimit.Counter, key string) error {
	ok, retry, err := l.Allow(c.UserContext(), key)
	if err != nil {
		s.limitErrors.Warn("rate limit unavailable, request allowed", "route", c.Route().Path, "error", err)
		return nil
	}
	if !ok {
		return tooManyRequests(retry)
	}
	return nil
}

// clearBackoff forgets email's login failures, logging when it cannot.
func (s *Server) clearBackoff(c *fiber.Ctx, email string) {
	if err := s.limiters.AccountBackoff.Clear(c.UserContext(), email); err != nil {
		s.limitErrors.Warn("login back-off not cleared", "error", err)
	}
}
