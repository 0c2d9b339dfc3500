package server

import (
	"errors"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

const (
	headerRequestID = "X-Request-ID"
	localRequestID  = "request_id"
	localUser       = "user"
	localGrant      = "grant"
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

// grant is what the credential of a request lets it do, beyond who it
// is: a session (a JWT access token without a scope claim) may do all its
// account may, a scoped JWT or an API token only what its scopes allow,
// and an API token's requests are audited with its id.
type grant struct {
	// scopes are the scopes the request may use, already narrowed to what
	// the account may hold now (model.ScopesAllowed); nil for a session.
	scopes []string
	// tokenID is the API token that authenticated the request, "" for
	// none.
	tokenID string
}

// session reports whether the request is a full session's.
func (g grant) session() bool { return g.scopes == nil }

// authenticate requires a valid credential, a JWT access token or an API
// token (Authorization: Bearer anv_…), whose user is still active, stores
// that user and what the credential grants in the context, and refuses
// with 403 a scoped credential the route's scope is not among
// (routeAccess, scopes.go). An access token's version must be current; an
// API token must be neither revoked nor expired, and grants no more than
// its account may do now: a deactivated account's tokens stop at once, a
// demoted one's lose audit:read (and requireStaff reads is_staff as it
// is now).
func (s *Server) authenticate(c *fiber.Ctx) error {
	header := c.Get(fiber.HeaderAuthorization)
	if header == "" {
		return errNoCredentials
	}
	scheme, token, ok := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return errBadToken
	}
	var u db.UserRow
	var g grant
	var err error
	if auth.IsAPIToken(token) {
		u, g, err = s.authenticateAPIToken(c, token)
	} else {
		u, g, err = s.authenticateJWT(c, token)
	}
	if err != nil {
		return err
	}
	c.Locals(localUser, u)
	c.Locals(localGrant, g)
	if err := checkScope(c, g); err != nil {
		return err
	}
	return c.Next()
}

// authenticateJWT checks an access token.
func (s *Server) authenticateJWT(c *fiber.Ctx, token string) (db.UserRow, grant, error) {
	claims, err := s.tokens.ParseAccess(token)
	if err != nil {
		return db.UserRow{}, grant{}, errBadToken
	}
	u, err := s.activeUser(c, claims.Subject)
	if err != nil {
		return db.UserRow{}, grant{}, err
	}
	if u.TokenVersion != claims.Version {
		return db.UserRow{}, grant{}, errBadToken
	}
	var g grant
	if scopes := claims.Scopes(); scopes != nil {
		g.scopes = model.ScopesAllowed(scopes, u.IsStaff)
	}
	return u, g, nil
}

// authenticateAPIToken checks an API token, and records its use when the
// last one recorded is a minute old (so that a token called in a loop
// writes once a minute, not once a request).
func (s *Server) authenticateAPIToken(c *fiber.Ctx, secret string) (db.UserRow, grant, error) {
	ctx := c.UserContext()
	row, err := s.apiTokens.Check(ctx, s.db.Read(), secret)
	if errors.Is(err, auth.ErrBadAPIToken) {
		return db.UserRow{}, grant{}, errBadToken
	}
	if err != nil {
		return db.UserRow{}, grant{}, err
	}
	u, err := s.activeUser(c, row.UserID)
	if err != nil {
		return db.UserRow{}, grant{}, err
	}
	if now := s.now(); auth.NeedsTouch(row, now) {
		// Only when it was last written a minute ago; a failure costs
		// the request nothing but the record of its use.
		if err := s.db.Write(ctx, func(q db.Tx) error { return q.TouchAPIToken(ctx, row.ID, now) }); err != nil {
			s.cfg.Logger.Warn("api token use not recorded", "request_id", requestID(c), "token_id", row.ID, "error", err)
		}
	}
	return u, grant{scopes: model.ScopesAllowed(row.Scopes, u.IsStaff), tokenID: row.ID}, nil
}

// activeUser is the account id through the user cache, errBadToken when
// there is none or it is deactivated.
func (s *Server) activeUser(c *fiber.Ctx, id string) (db.UserRow, error) {
	u, err := s.users.User(c.UserContext(), id)
	if errors.Is(err, db.ErrNotFound) {
		return db.UserRow{}, errBadToken
	}
	if err != nil {
		return db.UserRow{}, err
	}
	if !u.IsActive {
		return db.UserRow{}, errBadToken
	}
	return u, nil
}

// requireStaff answers 403 to authenticated non-staff users.
func requireStaff(c *fiber.Ctx) error {
	if !currentUser(c).IsStaff {
		return errForbidden
	}
	return c.Next()
}

// currentGrant is what the request's credential grants (authenticate).
func currentGrant(c *fiber.Ctx) grant {
	g, _ := c.Locals(localGrant).(grant)
	return g
}

// currentUser is the user authenticate stored.
func currentUser(c *fiber.Ctx) db.UserRow {
	u, _ := c.Locals(localUser).(db.UserRow)
	return u
}
