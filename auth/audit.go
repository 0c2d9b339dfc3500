package auth

import (
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/model"
)

// NewAuditEvent describes action on entity by actor (empty when anonymous)
// from client address ip at a given time: the one way audit events are
// made, by the HTTP handlers, the reset-code worker (for work done after
// the request that asked for it has been answered) and account creation.
func NewAuditEvent(at time.Time, ip, actorID, action, entity, entityID string) model.AuditEvent {
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
