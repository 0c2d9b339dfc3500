package server

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// listAuditEvents lists the audit trail to staff, newest first.
func (s *Server) listAuditEvents(c *fiber.Ctx) error {
	var errs model.FieldErrors
	p := parsePage(c, &errs)
	f := db.AuditFilter{ActorID: c.Query("actor_id"), EntityID: c.Query("entity_id"), Action: queryText(c, "action", &errs), Limit: p.size, Offset: p.offset()}
	if f.ActorID != "" && !model.ValidUUID(f.ActorID) {
		errs.Add("actor_id", model.MsgInvalidUUID)
	}
	if f.EntityID != "" && !model.ValidUUID(f.EntityID) {
		errs.Add("entity_id", model.MsgInvalidUUID)
	}
	if since := c.Query("since"); since != "" {
		t, err := time.Parse(time.RFC3339, since)
		if err != nil {
			d, derr := model.ParseDate(since)
			var de *model.DateError
			switch {
			case errors.As(derr, &de) && de.Reason != "":
				errs.Add("since", model.DateMessage(derr)) // the format is right, the day is not
			case derr != nil:
				errs.Add("since", "Enter an RFC 3339 date-time or a YYYY-MM-DD date.")
			}
			t = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
		}
		f.Since = &t
	}
	if err := errs.Err(); err != nil {
		return err
	}
	events, count, err := s.db.Read().ListAudit(c.UserContext(), f)
	if err != nil {
		return err
	}
	page, err := newPage(s, c, p, events, count)
	if err != nil {
		return err
	}
	return c.JSON(page)
}
