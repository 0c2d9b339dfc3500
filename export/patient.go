package export

import (
	"context"
	"fmt"
	"io"

	"github.com/anavara/anavara/audit"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// Counts is how many resources of each type an export wrote.
type Counts struct {
	Patient    int64 `json:"Patient"`
	Condition  int64 `json:"Condition"`
	Procedure  int64 `json:"Procedure"`
	AuditEvent int64 `json:"AuditEvent"`
}

// accessLogPage is how many access log events a person's export reads at
// a time: a page costs one query, and memory for that many events.
const accessLogPage = 500

// Person writes everything Anavara holds about account userID, as snap
// shows it, to w as FHIR NDJSON: the Patient, a Condition and a Procedure
// per medical record, and the person's access log as AuditEvents, named
// as the person may see them (audit.AccessLogEntries). db.ErrNotFound
// when there is no such account.
func Person(ctx context.Context, snap db.Snapshot, userID string, w io.Writer) (Counts, error) {
	var counts Counts
	u, err := snap.UserByID(ctx, userID)
	if err != nil {
		return counts, fmt.Errorf("export %s: %w", userID, err)
	}
	birth, err := birthDate(ctx, snap, userID)
	if err != nil {
		return counts, err
	}
	out := NewNDJSON(w)
	if err := out.Write(PatientResource(u.User, birth)); err != nil {
		return counts, err
	}
	counts.Patient = 1
	err = snap.EachRecord(ctx, userID, func(r model.MedicalRecord) error {
		if err := out.Write(ConditionResource(r)); err != nil {
			return err
		}
		counts.Condition++
		if err := out.Write(ProcedureResource(r)); err != nil {
			return err
		}
		counts.Procedure++
		return nil
	})
	if err != nil {
		return counts, fmt.Errorf("export %s: records: %w", userID, err)
	}
	self := func(id string) Reference {
		if id == userID {
			return patientReference(id, "")
		}
		return Reference{Identifier: &Identifier{System: SystemAccount, Value: id}}
	}
	for offset := 0; ; offset += accessLogPage {
		events, _, err := snap.AccessLog(ctx, db.AccessLogFilter{SubjectID: userID, Limit: accessLogPage, Offset: offset})
		if err != nil {
			return counts, fmt.Errorf("export %s: access log: %w", userID, err)
		}
		entries, err := audit.AccessLogEntries(ctx, snap, userID, events)
		if err != nil {
			return counts, fmt.Errorf("export %s: %w", userID, err)
		}
		for _, e := range entries {
			f := auditFacts{ID: e.ID, At: e.At, Action: e.Action, Entity: e.Entity, EntityID: e.EntityID,
				RecordIDs: e.RecordIDs, Via: e.Via, IP: e.IP, Who: entryAgent(e.Actor, e.Via), Account: self}
			if err := out.Write(auditEventResource(f)); err != nil {
				return counts, err
			}
			counts.AuditEvent++
		}
		if len(events) < accessLogPage {
			break
		}
	}
	return counts, out.Flush()
}

// PersonCSV writes account userID's medical records to w as CSV with a
// header row, and returns how many. db.ErrNotFound when there is no such
// account.
func PersonCSV(ctx context.Context, snap db.Snapshot, userID string, w io.Writer) (int64, error) {
	if _, err := snap.UserByID(ctx, userID); err != nil {
		return 0, fmt.Errorf("export %s: %w", userID, err)
	}
	out, err := NewCSV(w)
	if err != nil {
		return 0, err
	}
	if err := snap.EachRecord(ctx, userID, out.Write); err != nil {
		return out.Count(), fmt.Errorf("export %s: records: %w", userID, err)
	}
	return out.Count(), out.Flush()
}

// birthDate is the date of birth of userID's newest record, the last the
// walk visits; zero when the account has none.
func birthDate(ctx context.Context, snap db.Snapshot, userID string) (model.Date, error) {
	var birth model.Date
	err := snap.EachRecord(ctx, userID, func(r model.MedicalRecord) error {
		if !r.DateOfBirth.IsZero() {
			birth = r.DateOfBirth
		}
		return nil
	})
	if err != nil {
		return birth, fmt.Errorf("export %s: date of birth: %w", userID, err)
	}
	return birth, nil
}

// entryAgent is the agent of an access log entry: the account by id and
// by the name the log shows, or, with no account, the command line or an
// anonymous caller.
func entryAgent(a *model.AccessLogActor, via string) Reference {
	if a == nil {
		return anonymousAgent(via)
	}
	return Reference{Identifier: &Identifier{System: SystemAccount, Value: a.ID}, Display: a.Name}
}

// anonymousAgent names the agent of an event no account caused.
func anonymousAgent(via string) Reference {
	if via == model.ViaCLI {
		return Reference{Display: "server command line"}
	}
	return Reference{Display: "anonymous"}
}
