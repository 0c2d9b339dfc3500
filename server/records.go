package server

import (
	"cmp"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// today is the current UTC calendar date, against which record dates are
// checked.
func (s *Server) today() model.Date { return model.DateOf(s.now()) }

// listRecords lists the records the caller may see, filtered, ordered and
// paginated.
func (s *Server) listRecords(c *fiber.Ctx) error {
	me := currentUser(c)
	var errs model.FieldErrors
	p := parsePage(c, &errs)
	f := db.RecordFilter{
		Search:   strings.TrimSpace(queryText(c, "search", &errs)),
		Doctor:   strings.TrimSpace(queryText(c, "doctor", &errs)),
		Ordering: c.Query("ordering"),
	}
	if f.Ordering != "" && !model.ValidRecordOrdering(f.Ordering) {
		errs.Add("ordering", model.MsgInvalidOrdering)
	}
	f.TreatedAfter = queryDate(c, "date_of_treatment_after", &errs)
	f.TreatedBefore = queryDate(c, "date_of_treatment_before", &errs)
	userID := c.Query("user_id")
	if userID != "" && !model.ValidUUID(userID) {
		errs.Add("user_id", model.MsgInvalidUUID)
	}
	if err := errs.Err(); err != nil {
		return err
	}
	// Another patient's records: for this caller, there are none.
	none := !me.IsStaff && userID != "" && userID != me.ID
	f.UserID = userID
	if !me.IsStaff && !none {
		f.UserID = me.ID
	}
	// The bind holds the filters as applied: a patient's own records, or
	// none.
	if err := s.openCursor(&p, "records", f.UserID, f.Search, f.Doctor, dateText(f.TreatedAfter), dateText(f.TreatedBefore),
		cmp.Or(f.Ordering, model.DefaultRecordOrdering)); err != nil {
		return err
	}
	f.Limit, f.Offset, f.Seek = p.limit(), p.offset(), p.seek
	records := []model.MedicalRecord{}
	var count int
	if !none {
		var err error
		if records, count, err = s.db.Read().ListRecords(c.UserContext(), f); err != nil {
			return err
		}
	}
	records, more := trimPage(p, records)
	page, err := newPage(s, c, p, records, count, more, func(r model.MedicalRecord) db.Position {
		return db.RecordPosition(f.Ordering, r)
	})
	if err != nil {
		return err
	}
	// The page is answered only once the trail holds what it served.
	if err := s.reads.Log(c.UserContext(), s.listEvent(c, me.ID, f, p, records, count)); err != nil {
		return err
	}
	return c.JSON(page)
}

// dateText is d as YYYY-MM-DD, "" for none.
func dateText(d *model.Date) string {
	if d == nil {
		return ""
	}
	return d.String()
}

// listEvent is the audit event of a page of records served to actorID:
// the filters without their free text, and the ids served.
func (s *Server) listEvent(c *fiber.Ctx, actorID string, f db.RecordFilter, p pageRequest, served []model.MedicalRecord, count int) model.AuditEvent {
	action := model.ActionRecordList
	if f.Search != "" {
		action = model.ActionRecordSearch
	}
	e := s.auditEvent(c, actorID, action, model.EntityRecord, "")
	detail := model.RecordListDetail{
		UserID:        f.UserID,
		TreatedAfter:  f.TreatedAfter,
		TreatedBefore: f.TreatedBefore,
		Ordering:      f.Ordering,
		Page:          p.number,
		PageSize:      p.size,
		Count:         count,
	}
	if p.byCursor {
		detail.Page, detail.Paginate = 0, model.PaginateCursor
	}
	if f.Search != "" {
		detail.Search = &model.TextShape{Length: utf8.RuneCountInString(f.Search), Words: len(db.SearchWords(f.Search))}
	}
	if f.Doctor != "" {
		detail.Doctor = &model.TextShape{Length: utf8.RuneCountInString(f.Doctor), Words: len(strings.Fields(f.Doctor))}
	}
	// Every field is a number, a date, a uuid or an ordering's name:
	// nothing here fails to encode.
	e.Detail, _ = json.Marshal(detail)
	e.RecordIDs = make([]string, len(served))
	e.SubjectIDs = make([]string, len(served))
	for i, r := range served {
		e.RecordIDs[i], e.SubjectIDs[i] = r.ID, r.UserID
	}
	return e
}

// queryDate reads an optional YYYY-MM-DD query parameter.
func queryDate(c *fiber.Ctx, name string, errs *model.FieldErrors) *model.Date {
	v := c.Query(name)
	if v == "" {
		return nil
	}
	d, err := model.ParseDate(v)
	if err != nil {
		errs.Add(name, model.DateMessage(err))
		return nil
	}
	return &d
}

// createRecord adds a record to the caller's account or, for staff, to the
// account user_id names, which staff must send.
func (s *Server) createRecord(c *fiber.Ctx) error {
	in, err := parseInput(c)
	if err != nil {
		return err
	}
	now := s.now()
	r := model.MedicalRecord{ID: uuid.NewString(), UserID: currentUser(c).ID, Created: now, Updated: now, Version: 1}
	// The owner named is checked on the read pool: users are never
	// deleted, and the foreign key holds the rest.
	if err := s.readRecord(c, s.db.Read(), in, &r, true, nil); err != nil {
		return err
	}
	ctx := c.UserContext()
	err = s.db.Write(ctx, func(q db.Tx) error {
		if err := q.CreateRecord(ctx, r); err != nil {
			return err
		}
		return q.InsertAudit(ctx, s.auditEvent(c, currentUser(c).ID, model.ActionRecordCreate, model.EntityRecord, r.ID, r.UserID))
	})
	if err != nil {
		return err
	}
	setETag(c, r.Version)
	return c.Status(fiber.StatusCreated).JSON(r)
}

// readRecord applies the writable fields of in to r and validates them.
// With full, the required fields must all be present (create, PUT);
// otherwise any subset may be (PATCH). before is the stored record when
// updating, so rules that apply only to changes can tell what changed; q
// checks a new owner exists.
func (s *Server) readRecord(c *fiber.Ctx, q db.Reader, in *input, r *model.MedicalRecord, full bool, before *model.MedicalRecord) error {
	me := currentUser(c)
	today := s.today()

	// A null or empty user_id means "not sent": the record stays with its
	// current owner (on create, the caller). Staff creating a record must
	// say whose it is, or it would land in their own account.
	v, ok := in.trimmed("user_id", false)
	if before == nil && me.IsStaff && v == "" && !in.errs.Has("user_id") {
		in.errs.Add("user_id", model.MsgRequired)
	}
	if ok && v != "" && strings.ToLower(v) != r.UserID {
		v = strings.ToLower(v)
		switch {
		case !me.IsStaff:
			return newError(fiber.StatusForbidden, model.MsgOwnerChange)
		case !model.ValidUUID(v):
			in.errs.Add("user_id", model.MsgUnknownUser)
		default:
			if _, err := q.UserByID(c.UserContext(), v); errors.Is(err, db.ErrNotFound) {
				in.errs.Add("user_id", model.MsgUnknownUser)
			} else if err != nil {
				return err
			}
			r.UserID = v
		}
	}
	if v, ok := in.trimmed("patient_name", full); ok {
		in.check("patient_name", model.ValidateRecordName(v))
		r.PatientName = v
	}
	if v, ok := in.date("date_of_birth", full); ok {
		in.check("date_of_birth", model.ValidateDateOfBirth(v, today))
		r.DateOfBirth = v
	}
	if v, ok := in.str("diagnosis", false); ok {
		in.check("diagnosis", model.ValidateRecordText(v))
		r.Diagnosis = v
	}
	if v, ok := in.str("treatment", false); ok {
		in.check("treatment", model.ValidateRecordText(v))
		r.Treatment = v
	}
	if v, ok := in.date("date_of_treatment", full); ok {
		if before == nil || v != before.DateOfTreatment {
			in.check("date_of_treatment", model.ValidateTreatmentDate(v, today))
		}
		r.DateOfTreatment = v
	}
	if v, ok := in.trimmed("doctor", full); ok {
		in.check("doctor", model.ValidateRecordName(v))
		r.Doctor = v
	}
	return in.err()
}

// findRecord loads the record in the path through q if the caller may see
// it; any other record, existing or not, is 404. Inside a write
// transaction q locks the record until it ends.
func (s *Server) findRecord(c *fiber.Ctx, q db.Reader) (model.MedicalRecord, error) {
	id := c.Params("id")
	if !model.ValidUUID(id) {
		return model.MedicalRecord{}, errNotFound
	}
	r, err := q.RecordByID(c.UserContext(), strings.ToLower(id))
	if err != nil {
		return r, err
	}
	if me := currentUser(c); !me.IsStaff && r.UserID != me.ID {
		return model.MedicalRecord{}, errNotFound
	}
	return r, nil
}

// getRecord returns one record and audits the read.
func (s *Server) getRecord(c *fiber.Ctx) error {
	r, err := s.findRecord(c, s.db.Read())
	if err != nil {
		return err
	}
	// The record is answered only once the trail holds the read.
	if err := s.reads.Log(c.UserContext(), s.auditEvent(c, currentUser(c).ID, model.ActionRecordRead, model.EntityRecord, r.ID, r.UserID)); err != nil {
		return err
	}
	setETag(c, r.Version)
	return c.JSON(r)
}

func (s *Server) putRecord(c *fiber.Ctx) error   { return s.updateRecord(c, true) }
func (s *Server) patchRecord(c *fiber.Ctx) error { return s.updateRecord(c, false) }

// updateRecord replaces (full) or patches a record, if it is still at the
// version If-Match names.
func (s *Server) updateRecord(c *fiber.Ctx, full bool) error {
	match, err := parseIfMatch(c)
	if err != nil {
		return err
	}
	var r model.MedicalRecord
	ctx := c.UserContext()
	// The record is read, changed and written in one transaction that
	// locks it: read outside, two PATCHes of different fields would each
	// write back the other's field as it was, losing one change.
	err = s.db.Write(ctx, func(q db.Tx) error {
		before, err := s.findRecord(c, q)
		if err != nil {
			return err
		}
		// Against the locked row: no other writer can change it between
		// this check and the update.
		if err := match.check(before.Version, errRecordChanged); err != nil {
			return err
		}
		in, err := parseInput(c)
		if err != nil {
			return err
		}
		r = before
		if full {
			// PUT replaces the optional texts too: omitting one clears it.
			r.Diagnosis, r.Treatment = "", ""
		}
		if err := s.readRecord(c, q, in, &r, full, &before); err != nil {
			return err
		}
		r.Updated = s.now()
		if err := q.UpdateRecord(ctx, r); err != nil {
			return err
		}
		r.Version = before.Version + 1
		// A record given to another patient concerns both.
		subjects := []string{before.UserID}
		if r.UserID != before.UserID {
			subjects = append(subjects, r.UserID)
		}
		return q.InsertAudit(ctx, s.auditEvent(c, currentUser(c).ID, model.ActionRecordUpdate, model.EntityRecord, r.ID, subjects...))
	})
	if err != nil {
		return err
	}
	setETag(c, r.Version)
	return c.JSON(r)
}

// deleteRecord removes a record, if it is still at the version If-Match
// names.
func (s *Server) deleteRecord(c *fiber.Ctx) error {
	match, err := parseIfMatch(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	err = s.db.Write(ctx, func(q db.Tx) error {
		r, err := s.findRecord(c, q)
		if err != nil {
			return err
		}
		if err := match.check(r.Version, errRecordChanged); err != nil {
			return err
		}
		if err := q.DeleteRecord(ctx, r.ID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, s.auditEvent(c, currentUser(c).ID, model.ActionRecordDelete, model.EntityRecord, r.ID, r.UserID))
	})
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
