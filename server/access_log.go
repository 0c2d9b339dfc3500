package server

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/audit"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// myAccessLog lists who accessed the caller's records and account.
func (s *Server) myAccessLog(c *fiber.Ctx) error {
	return s.accessLog(c, currentUser(c).ID)
}

// userAccessLog lists who accessed a person's records and account: to
// staff for anyone, to a patient for themselves; any other account, like
// one that does not exist, is not found.
func (s *Server) userAccessLog(c *fiber.Ctx) error {
	subject, err := s.personOf(c)
	if err != nil {
		return err
	}
	return s.accessLog(c, subject)
}

// personOf is the account the path's id names, if the caller may see its
// data: staff any account that exists, a patient their own.
func (s *Server) personOf(c *fiber.Ctx) (string, error) {
	id, me := c.Params("id"), currentUser(c)
	if !model.ValidUUID(id) || (!me.IsStaff && id != me.ID) {
		return "", errNotFound
	}
	if id != me.ID {
		if _, err := s.db.Read().UserByID(c.UserContext(), id); err != nil {
			return "", err
		}
	}
	return id, nil
}

// accessLog answers one page of subject's access log, after its reading
// is in the trail (ActionAccessLogRead, concerning subject): the page is
// never sent unless the event is committed.
func (s *Server) accessLog(c *fiber.Ctx, subject string) error {
	var errs model.FieldErrors
	p := parsePage(c, &errs)
	f := db.AccessLogFilter{SubjectID: subject, RecordID: c.Query("record_id"), Since: parseSince(c, &errs)}
	if f.RecordID != "" && !model.ValidUUID(f.RecordID) {
		errs.Add("record_id", model.MsgInvalidUUID)
	}
	if err := errs.Err(); err != nil {
		return err
	}
	if err := s.openCursor(&p, "access-log", f.SubjectID, f.RecordID, timeText(f.Since)); err != nil {
		return err
	}
	f.Limit, f.Offset, f.Seek = p.limit(), p.offset(), p.seek
	ctx := c.UserContext()
	var events []model.AuditEvent
	count := 0
	// A list that served the person's records with another patient's
	// would match that patient's record: another's record finds nothing.
	mine, err := s.mayConcern(c, f.RecordID, subject)
	if err != nil {
		return err
	}
	if mine {
		if events, count, err = s.db.Read().AccessLog(ctx, f); err != nil {
			return err
		}
	}
	events, more := trimPage(p, events)
	entries, err := audit.AccessLogEntries(ctx, s.db.Read(), subject, events)
	if err != nil {
		return err
	}
	page, err := newPage(s, c, p, entries, count, more, func(e model.AccessLogEntry) db.Position {
		return db.Position{Key: e.At, ID: e.ID}
	})
	if err != nil {
		return err
	}
	me := currentUser(c)
	if err := s.reads.Log(ctx, s.auditEvent(c, me.ID, model.ActionAccessLogRead, model.EntityUser, subject, subject)); err != nil {
		return err
	}
	return c.JSON(page)
}

// mayConcern reports whether record id, when not empty, may be
// subject's: it is theirs, or gone (a deleted record's events still name
// it).
func (s *Server) mayConcern(c *fiber.Ctx, id, subject string) (bool, error) {
	if id == "" {
		return true, nil
	}
	r, err := s.db.Read().RecordByID(c.UserContext(), id)
	if errors.Is(err, db.ErrNotFound) {
		return true, nil
	}
	return err == nil && r.UserID == subject, err
}

// auditHead answers the newest link of the audit chain, for an outside
// system to anchor it.
func (s *Server) auditHead(c *fiber.Ctx) error {
	head, err := s.db.Read().AuditHead(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(head)
}

// timeText is t in RFC 3339 with nanoseconds, "" for none.
func timeText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// parseSince reads ?since, an RFC 3339 date-time or a YYYY-MM-DD date
// (midnight UTC), recording a problem in errs; nil when absent.
func parseSince(c *fiber.Ctx, errs *model.FieldErrors) *time.Time {
	since := c.Query("since")
	if since == "" {
		return nil
	}
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
	return &t
}
