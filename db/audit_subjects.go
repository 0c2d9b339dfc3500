package db

import (
	"context"

	"github.com/anavara/anavara/model"
)

// Owners finds who owns a record or an SSH key, for LegacySubjects; ok is
// false when there is no such row (any more).
type Owners interface {
	RecordOwner(ctx context.Context, id string) (owner string, ok bool, err error)
	SSHKeyOwner(ctx context.Context, id string) (owner string, ok bool, err error)
}

// LegacySubjects are the SubjectIDs of an event written before events
// carried them (each engine's migration to the hash chain fills them in),
// by the rule the server follows since: a record's owner for an event
// about a record, the owner of each record served for a list or search
// (parallel to RecordIDs), the account for an event about an account's
// data, the key's owner for an event about an SSH key, and none for
// signing in and out. What the rows no longer say (a record or key
// deleted since) stays unknown: a list with an owner unknown keeps the
// owners known, not parallel to its records.
func LegacySubjects(ctx context.Context, e model.AuditEvent, o Owners) ([]string, error) {
	entity := ""
	if e.EntityID != nil {
		entity = *e.EntityID
	}
	switch e.Action {
	case model.ActionRecordList, model.ActionRecordSearch:
		subjects := make([]string, 0, len(e.RecordIDs))
		parallel := true
		for _, id := range e.RecordIDs {
			owner, ok, err := o.RecordOwner(ctx, id)
			if err != nil {
				return nil, err
			}
			if !ok {
				parallel = false
				continue
			}
			subjects = append(subjects, owner)
		}
		if !parallel {
			return distinct(subjects), nil
		}
		return subjects, nil
	case model.ActionRecordCreate, model.ActionRecordRead, model.ActionRecordUpdate, model.ActionRecordDelete:
		return one(o.RecordOwner(ctx, entity))
	case model.ActionUserCreate, model.ActionUserUpdate, model.ActionUserExport, model.ActionAccessLogRead:
		if entity == "" {
			return nil, nil
		}
		return []string{entity}, nil
	case model.ActionSSHKeyAdd, model.ActionSSHKeyRemove:
		return one(o.SSHKeyOwner(ctx, entity))
	}
	return nil, nil
}

func one(owner string, ok bool, err error) ([]string, error) {
	if err != nil || !ok {
		return nil, err
	}
	return []string{owner}, nil
}

func distinct(ids []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
