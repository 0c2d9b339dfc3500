package server

import (
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
)

const (
	headerRequestID = "X-Request-ID"
	localRequestID  = "request_id"
	localUser       = "user"
)

// safeRequestID limits which client-sent request ids are echoed and logged.
var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestIDMiddleware gives every request an id, reusing a well-formed one
// the client sent, and returns it in X-Request-ID.
func requestIDMiddleware(c *fiber.Ctx) error {
	ensureRequestID(c)
	return c.Next()
}

// ensureRequestID sets the request id once; the error handler calls it too,
// for requests rejected before any middleware ran.
func ensureRequestID(c *fiber.Ctx) string {
	if id, ok := c.Locals(localRequestID).(string); ok {
		return id
	}
	id := c.Get(headerRequestID)
	if !safeRequestID.MatchString(id) {
		id = uuid.NewString()
	}
	c.Locals(localRequestID, id)
	c.Set(headerRequestID, id)
	return id
}

func requestID(c *fiber.Ctx) string { return ensureRequestID(c) }

// securityHeaders keeps medical data out of shared caches and stops browsers
// guessing content types.
func securityHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set("Referrer-Policy", "no-referrer")
	return c.Next()
}

// authenticate requires a valid access token whose user is still active and
// whose token version is current, and stores that user in the context.
func (s *Server) authenticate(c *fiber.Ctx) error {
	header := c.Get(fiber.HeaderAuthorization)
	if header == "" {
		return errNoCredentials
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return errBadToken
	}
	claims, err := s.tokens.ParseAccess(strings.TrimSpace(token))
	if err != nil {
		return errBadToken
	}
	u, err := s.users.User(c.UserContext(), claims.Subject)
	if err != nil {
		if err == db.ErrNotFound {
			return errBadToken
		}
		return err
	}
	if !u.IsActive || u.TokenVersion != claims.Version {
		return errBadToken
	}
	c.Locals(localUser, u)
	return c.Next()
}

// requireStaff answers 403 to authenticated non-staff users.
func requireStaff(c *fiber.Ctx) error {
	if !currentUser(c).IsStaff {
		return errForbidden
	}
	return c.Next()
}

// currentUser is the user authenticate stored.
func currentUser(c *fiber.Ctx) db.UserRow {
	u, _ := c.Locals(localUser).(db.UserRow)
	return u
}
