package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// AccessLogEntries shows events of subjectID's access log (as
// db.Reader.AccessLog returns them) the way the person may see them: who
// did it by name and role, and of a list or search only the person's own
// records, never the request's filters or other patients' records. r
// looks the actors up; an account deleted since shows by id alone.
func AccessLogEntries(ctx context.Context, r db.Reader, subjectID string, events []model.AuditEvent) ([]model.AccessLogEntry, error) {
	actors := map[string]*model.AccessLogActor{}
	entries := make([]model.AccessLogEntry, 0, len(events))
	for _, e := range events {
		entry := model.AccessLogEntry{
			ID:        e.ID,
			At:        e.At,
			Action:    e.Action,
			Entity:    e.Entity,
			EntityID:  e.EntityID,
			RecordIDs: ownRecords(e, subjectID),
			Via:       e.Via,
			Source:    model.AccessSource(e.Via, e.IP),
			IP:        e.IP,
		}
		if e.ActorID != nil {
			a, ok := actors[*e.ActorID]
			if !ok {
				u, err := r.UserByID(ctx, *e.ActorID)
				switch {
				case errors.Is(err, db.ErrNotFound):
					a = &model.AccessLogActor{ID: *e.ActorID}
				case err != nil:
					return nil, fmt.Errorf("access log: the actor of %s: %w", e.ID, err)
				default:
					a = &model.AccessLogActor{ID: u.ID, Name: u.FullName(), Role: u.Role()}
				}
				actors[*e.ActorID] = a
			}
			entry.Actor = a
		}
		entries = append(entries, entry)
	}
	return entries, nil
}

// ownRecords are the records of e's list or search that subjectID owns,
// in the order served: SubjectIDs runs parallel to RecordIDs.
func ownRecords(e model.AuditEvent, subjectID string) []string {
	own := []string{}
	if len(e.SubjectIDs) != len(e.RecordIDs) {
		return own
	}
	for i, id := range e.RecordIDs {
		if e.SubjectIDs[i] == subjectID {
			own = append(own, id)
		}
	}
	return own
}
