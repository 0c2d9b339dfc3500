package server

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/anavara/anavara/model"
)

// auditEvent describes action on entity by actor (empty when anonymous)
// from the request's client address, now.
func (s *Server) auditEvent(c *fiber.Ctx, actorID, action, entity, entityID string) model.AuditEvent {
	return newAuditEvent(s.now(), clientIP(c), actorID, action, entity, entityID)
}

// newAuditEvent describes action on entity by actor (empty when anonymous)
// from client address ip at a given time, for work done after the request
// that asked for it has been answered.
func newAuditEvent(at time.Time, ip, actorID, action, entity, entityID string) model.AuditEvent {
	e := model.AuditEvent{
		ID:     uuid.NewString(),
		At:     at,
		Action: action,
		Entity: entity,
		IP:     ip,
	}
	if actorID != "" {
		e.ActorID = &actorID
	}
	if entityID != "" {
		e.EntityID = &entityID
	}
	return e
}
