package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/model"
)

// auditEvent describes action on entity by actor (empty when anonymous)
// from the request's client address and way in, now, concerning the
// accounts subjects: the owners of the records it reads or changes, or
// the account whose data it is (model.AuditEvent.SubjectIDs); none for
// signing in and out. An event of a request an API token authenticated
// names the token.
func (s *Server) auditEvent(c *fiber.Ctx, actorID, action, entity, entityID string, subjects ...string) model.AuditEvent {
	e := auth.NewAuditEvent(s.now(), clientIP(c), actorID, action, entity, entityID)
	e.Via = clientVia(c)
	e.SubjectIDs = subjects
	if id := currentGrant(c).tokenID; id != "" {
		e.TokenID = &id
	}
	return e
}
