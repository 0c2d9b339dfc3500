package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// listAuditEvents lists the audit trail to staff, newest first.
func (s *Server) listAuditEvents(c *fiber.Ctx) error {
	var errs model.FieldErrors
	p := parsePage(c, &errs)
	f := db.AuditFilter{ActorID: c.Query("actor_id"), EntityID: c.Query("entity_id"), Action: queryText(c, "action", &errs)}
	if f.ActorID != "" && !model.ValidUUID(f.ActorID) {
		errs.Add("actor_id", model.MsgInvalidUUID)
	}
	if f.EntityID != "" && !model.ValidUUID(f.EntityID) {
		errs.Add("entity_id", model.MsgInvalidUUID)
	}
	if f.Action != "" && !model.ValidAuditAction(f.Action) {
		errs.Add("action", model.MsgInvalidAuditAction())
	}
	f.Since = parseSince(c, &errs)
	if err := errs.Err(); err != nil {
		return err
	}
	if err := s.openCursor(&p, "audit-events", f.ActorID, f.EntityID, f.Action, timeText(f.Since)); err != nil {
		return err
	}
	f.Limit, f.Offset, f.Seek = p.limit(), p.offset(), p.seek
	events, count, err := s.db.Read().ListAudit(c.UserContext(), f)
	if err != nil {
		return err
	}
	events, more := trimPage(p, events)
	page, err := newPage(s, c, p, events, count, more, db.AuditPosition)
	if err != nil {
		return err
	}
	return c.JSON(page)
}
