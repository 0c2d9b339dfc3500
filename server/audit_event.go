package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/model"
)

// auditEvent describes action on entity by actor (empty when anonymous)
// from the request's client address, now.
func (s *Server) auditEvent(c *fiber.Ctx, actorID, action, entity, entityID string) model.AuditEvent {
	return auth.NewAuditEvent(s.now(), clientIP(c), actorID, action, entity, entityID)
}
