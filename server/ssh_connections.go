package server

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// errNoClientAddress answers an ssh-connection check that does not say
// which client is connecting: without it the front end's own address
// would be limited, one bucket for all its clients.
var errNoClientAddress = newError(fiber.StatusBadRequest, "Missing "+HeaderClientAddress+" header: send the connecting client's IP address.")

// sshConnection lets a trusted SSH front end that has no database of its
// own (ssh-serve) count a new connection against the per-address limit
// every instance shares: 204 when the address may connect, 429 with
// Retry-After when not. The address is the one the front end forwards
// (resolveOrigin). A limit whose state cannot be reached lets the
// connection in, as the other endpoint limits do (allow).
func (s *Server) sshConnection(c *fiber.Ctx) error {
	if strings.TrimSpace(c.Get(HeaderClientAddress)) == "" {
		return errNoClientAddress
	}
	if err := s.allow(c, s.limiters.SSHConnect, clientIP(c)); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
