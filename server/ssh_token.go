package server

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// sshToken mints a short-lived scoped access token (model.SSHTokenTTL, no
// refresh token) for the owner of a key whose possession the SSH front
// end verified: ssh host token, for a script on a machine that holds the
// user's key and no stored secret. Without scopes the token has every
// scope the account has now. Audited, naming the key.
func (s *Server) sshToken(c *fiber.Ctx) error {
	in, err := parseInput(c)
	if err != nil {
		return err
	}
	fp, _ := in.trimmed("fingerprint", true)
	asked, hasScopes := in.list("scopes")
	if err := in.err(); err != nil {
		return err
	}
	ctx := c.UserContext()
	var out model.ScopedAccessToken
	err = s.db.Write(ctx, func(q db.Tx) error {
		k, u, err := s.verifiedKeyOwner(ctx, q, fp)
		if err != nil {
			return err
		}
		scopes := model.ScopesAllowed(model.AllScopes, u.IsStaff)
		if hasScopes {
			var msg string
			if scopes, msg = model.ValidateScopes(asked, u.IsStaff); msg != "" {
				return fieldError("scopes", msg)
			}
		}
		if err := q.InsertAudit(ctx, s.auditEvent(c, u.ID, model.ActionSSHToken, model.EntitySSHKey, k.ID, u.ID)); err != nil {
			return err
		}
		token, err := s.tokens.AccessScoped(u, scopes, model.SSHTokenTTL)
		if err != nil {
			return err
		}
		out = model.ScopedAccessToken{AccessToken: token, TokenType: "Bearer", ExpiresIn: int(model.SSHTokenTTL.Seconds()),
			Expires: s.now().Add(model.SSHTokenTTL).UTC().Truncate(time.Second), Scopes: scopes}
		return nil
	})
	if errors.Is(err, db.ErrNotFound) {
		return errNoKeyOwner
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}
