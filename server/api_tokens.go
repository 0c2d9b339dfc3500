package server

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// Personal access tokens: an account's own under /api/users/me/tokens,
// and staff's view of anyone's under /api/users/{id}/tokens. Only a
// session manages them (routeAccess): a token never mints or revokes
// tokens.

// createAPIToken issues a token of the caller's account and shows its
// secret, this once.
func (s *Server) createAPIToken(c *fiber.Ctx) error {
	in, err := parseInput(c)
	if err != nil {
		return err
	}
	me := currentUser(c)
	name, _ := in.trimmed("name", true)
	if !in.errs.Has("name") {
		in.check("name", model.ValidateAPITokenName(name))
	}
	asked, present := in.list("scopes")
	var scopes []string
	if !present && !in.errs.Has("scopes") {
		in.errs.Add("scopes", model.MsgRequired)
	} else if present {
		var msg string
		scopes, msg = model.ValidateScopes(asked, me.IsStaff)
		in.check("scopes", msg)
	}
	days, present := in.integer("expires_in_days", model.MsgAPITokenExpires)
	if !present {
		days = model.DefaultAPITokenDays
	}
	if !in.errs.Has("expires_in_days") {
		in.check("expires_in_days", model.ValidateAPITokenDays(days))
	}
	if err := in.err(); err != nil {
		return err
	}
	ctx := c.UserContext()
	var out model.NewAPIToken
	err = s.db.Write(ctx, func(q db.Tx) error {
		row, secret, err := s.apiTokens.Issue(ctx, q, me.ID, name, scopes, days)
		if err != nil {
			return err
		}
		out = model.NewAPIToken{ID: row.ID, Name: row.Name, Scopes: row.Scopes, Created: row.Created, Expires: row.Expires, Token: secret}
		return q.InsertAudit(ctx, s.auditEvent(c, me.ID, model.ActionTokenCreate, model.EntityAPIToken, row.ID, me.ID))
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

// listAPITokens lists an account's tokens that are not revoked, newest
// first, one page at a time: never a secret nor its hash.
func (s *Server) listAPITokens(c *fiber.Ctx) error {
	var errs model.FieldErrors
	p := parsePage(c, &errs)
	if err := errs.Err(); err != nil {
		return err
	}
	owner, err := s.keyOwner(c)
	if err != nil {
		return err
	}
	tokens, count, err := s.db.Read().APITokensOf(c.UserContext(), db.APITokenFilter{UserID: owner, Limit: p.size, Offset: p.offset()})
	if err != nil {
		return err
	}
	// By page number only: the query-parameter table refuses cursors here
	// (an account holds a few tokens).
	page, err := newPage(s, c, p, tokens, count, false, nil)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// revokeAPIToken revokes one of an account's tokens: at once, on every
// instance, since each request looks its token up. 404 for a token the
// account does not have, or has revoked already.
func (s *Server) revokeAPIToken(c *fiber.Ctx) error {
	owner, err := s.keyOwner(c)
	if err != nil {
		return err
	}
	tokenID := c.Params("tokenID")
	if !model.ValidUUID(tokenID) {
		return errNotFound
	}
	ctx := c.UserContext()
	err = s.db.Write(ctx, func(q db.Tx) error {
		if err := q.RevokeAPIToken(ctx, owner, tokenID, s.now()); err != nil {
			return err
		}
		return q.InsertAudit(ctx, s.auditEvent(c, currentUser(c).ID, model.ActionTokenRevoke, model.EntityAPIToken, tokenID, owner))
	})
	if errors.Is(err, db.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// revokeAPITokensOf revokes every API token of userID, in q's transaction,
// and records each revocation as actorID's. A password change or reset and
// a deactivation do so: a long-lived credential that outlived them would
// undo what they are for (whoever took over the account keeps a way in,
// and re-activating an account would bring its old tokens back).
func (s *Server) revokeAPITokensOf(c *fiber.Ctx, q db.Tx, actorID, userID string, at time.Time) error {
	ctx := c.UserContext()
	ids, err := q.RevokeUserAPITokens(ctx, userID, at)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := q.InsertAudit(ctx, s.auditEvent(c, actorID, model.ActionTokenRevoke, model.EntityAPIToken, id, userID)); err != nil {
			return err
		}
	}
	return nil
}
