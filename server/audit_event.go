package server

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/anavara/anavara/model"
)

// auditEvent describes action on entity by actor (empty when anonymous)
// from the request's client address.
func (s *Server) auditEvent(c *fiber.Ctx, actorID, action, entity, entityID string) model.AuditEvent {
	e := model.AuditEvent{
		ID:     uuid.NewString(),
		At:     s.now(),
		Action: action,
		Entity: entity,
		IP:     c.IP(),
	}
	if actorID != "" {
		e.ActorID = &actorID
	}
	if entityID != "" {
		e.EntityID = &entityID
	}
	return e
}
