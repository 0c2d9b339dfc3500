package export

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// The files of a population export, one per resource type.
const (
	PatientFile    = "Patient.ndjson"
	ConditionFile  = "Condition.ndjson"
	ProcedureFile  = "Procedure.ndjson"
	AuditEventFile = "AuditEvent.ndjson"
)

// Progress reports a population export's advance through one file.
type Progress struct {
	File string
	// Done resources are written of Total, the count the snapshot gives
	// before the file starts.
	Done, Total int64
	// Finished is set on the file's last report.
	Finished bool
}

// progressEvery is how many resources pass between Progress reports.
const progressEvery = 8192

// Population writes the whole database as snap shows it to sink: every
// patient account (every account that is not staff, and any staff account
// that owns records) to Patient.ndjson, every record as a Condition and a
// Procedure, the whole audit trail in chain order as AuditEvents, and
// last the manifest. Staff accounts appear as the agents of the events,
// by id and name. request says what asked for the export, for the
// manifest. progress, if not nil, hears of each file's advance.
//
// Memory stays bounded: rows are streamed, and what is kept across files
// is a sorted index of 20 bytes per patient with records (their dates of
// birth, which come from records but go in Patient.ndjson) and the names
// of the staff accounts. No query runs inside another's walk, which
// PostgreSQL's one-query-at-a-time connection would refuse.
func Population(ctx context.Context, snap db.Snapshot, sink Sink, request string, progress func(Progress)) (Manifest, error) {
	m := Manifest{TransactionTime: snap.At(), Request: request, Output: []ManifestOutput{}, Error: []ManifestOutput{},
		Documentation: DocumentationURL}
	head, err := snap.AuditHead(ctx)
	if err != nil {
		return m, fmt.Errorf("population export: audit head: %w", err)
	}
	m.AuditHead = head
	totals, err := populationTotals(ctx, snap)
	if err != nil {
		return m, err
	}
	if progress == nil {
		progress = func(Progress) {}
	}
	p := &population{snap: snap, sink: sink, progress: progress, staff: map[string]string{}}

	var births birthIndex
	if _, ok := sink.(TogetherSink); ok {
		// One walk of the records writes both files: the walk, not the
		// writing, is most of an export's time.
		err = p.files(ctx, []string{ConditionFile, ProcedureFile}, totals.Condition, &m, func(write []func(any) error) error {
			return snap.EachRecord(ctx, "", func(r model.MedicalRecord) error {
				births.add(r)
				if err := write[0](ConditionResource(r)); err != nil {
					return err
				}
				return write[1](ProcedureResource(r))
			})
		})
	} else {
		err = p.file(ctx, ConditionFile, totals.Condition, &m, func(write func(any) error) error {
			return snap.EachRecord(ctx, "", func(r model.MedicalRecord) error {
				births.add(r)
				return write(ConditionResource(r))
			})
		})
		if err == nil {
			err = p.file(ctx, ProcedureFile, totals.Procedure, &m, func(write func(any) error) error {
				return snap.EachRecord(ctx, "", func(r model.MedicalRecord) error { return write(ProcedureResource(r)) })
			})
		}
	}
	if err != nil {
		return m, err
	}
	births.sort()
	err = p.file(ctx, PatientFile, totals.Patient, &m, func(write func(any) error) error {
		return snap.EachUser(ctx, func(u model.User) error {
			birth, owns := births.of(u.ID)
			if u.IsStaff {
				p.staff[u.ID] = u.FullName()
				if !owns {
					return nil
				}
			}
			return write(PatientResource(u, birth))
		})
	})
	if err != nil {
		return m, err
	}
	err = p.file(ctx, AuditEventFile, totals.AuditEvent, &m, func(write func(any) error) error {
		return snap.EachAudit(ctx, func(e model.AuditEvent) error { return write(auditEventResource(p.facts(e))) })
	})
	if err != nil {
		return m, err
	}
	// Bulk Data lists the files in no required order; the types' order
	// reads best.
	order := map[string]int{"Patient": 0, "Condition": 1, "Procedure": 2, "AuditEvent": 3}
	slices.SortFunc(m.Output, func(a, b ManifestOutput) int { return order[a.Type] - order[b.Type] })
	w, err := sink.Create(ManifestFile)
	if err != nil {
		return m, err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return m, fmt.Errorf("population export: manifest: %w", err)
	}
	if err := w.Close(); err != nil {
		return m, err
	}
	return m, nil
}

// population is one population export under way.
type population struct {
	snap     db.Snapshot
	sink     Sink
	progress func(Progress)
	// staff names the staff accounts, the agents of events whom no
	// Patient resource names.
	staff map[string]string
}

// file writes one NDJSON file with fill and lists it in m.
func (p *population) file(ctx context.Context, name string, total int64, m *Manifest, fill func(write func(any) error) error) error {
	return p.files(ctx, []string{name}, total, m, func(write []func(any) error) error { return fill(write[0]) })
}

// files writes NDJSON files at once, each of total resources, with fill,
// which gets a write function per file, and lists them in m.
func (p *population) files(ctx context.Context, names []string, total int64, m *Manifest, fill func(write []func(any) error) error) error {
	outs := make([]*NDJSON, len(names))
	closers := make([]io.Closer, len(names))
	writes := make([]func(any) error, len(names))
	for i, name := range names {
		w, err := p.sink.Create(name)
		if err != nil {
			return err
		}
		out := NewNDJSON(w)
		outs[i], closers[i] = out, w
		p.progress(Progress{File: name, Total: total})
		writes[i] = func(resource any) error {
			if err := out.Write(resource); err != nil {
				return fmt.Errorf("population export: %s: %w", name, err)
			}
			if n := out.Count(); n%progressEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
				p.progress(Progress{File: name, Done: n, Total: total})
			}
			return nil
		}
	}
	if err := fill(writes); err != nil {
		return fmt.Errorf("population export: %w", err)
	}
	for i, name := range names {
		if err := outs[i].Flush(); err != nil {
			return fmt.Errorf("population export: %s: %w", name, err)
		}
		if err := closers[i].Close(); err != nil {
			return err
		}
		typ := name[:len(name)-len(".ndjson")]
		m.Output = append(m.Output, ManifestOutput{Type: typ, URL: name, Count: outs[i].Count()})
		p.progress(Progress{File: name, Done: outs[i].Count(), Total: total, Finished: true})
	}
	return nil
}

// facts is what the AuditEvent of e says: staff agents by name, patients
// by their Patient resource.
func (p *population) facts(e model.AuditEvent) auditFacts {
	f := auditFacts{ID: e.ID, At: e.At, Action: e.Action, Entity: e.Entity, EntityID: e.EntityID,
		RecordIDs: e.RecordIDs, Via: e.Via, IP: e.IP, Who: anonymousAgent(e.Via), Account: p.account, TokenID: e.TokenID}
	if e.ActorID != nil {
		f.Who = p.account(*e.ActorID)
	}
	return f
}

// account refers to account id: a staff account by identifier and name,
// any other by its Patient resource.
func (p *population) account(id string) Reference {
	if name, ok := p.staff[id]; ok {
		return Reference{Identifier: &Identifier{System: SystemAccount, Value: id}, Display: name}
	}
	return patientReference(id, "")
}

// populationTotals counts, in the snapshot, what each file will hold, for
// the progress bar.
func populationTotals(ctx context.Context, snap db.Snapshot) (Counts, error) {
	var c Counts
	notStaff := false
	_, patients, err := snap.ListUsers(ctx, db.UserFilter{IsStaff: &notStaff, Limit: 1})
	if err != nil {
		return c, fmt.Errorf("population export: count patients: %w", err)
	}
	_, records, err := snap.ListRecords(ctx, db.RecordFilter{Limit: 1})
	if err != nil {
		return c, fmt.Errorf("population export: count records: %w", err)
	}
	_, events, err := snap.ListAudit(ctx, db.AuditFilter{Limit: 1})
	if err != nil {
		return c, fmt.Errorf("population export: count audit events: %w", err)
	}
	return Counts{Patient: int64(patients), Condition: int64(records), Procedure: int64(records), AuditEvent: int64(events)}, nil
}

// birthIndex maps the accounts that own records to the date of birth of
// their newest record, in 20 bytes an account: records arrive grouped by
// owner, oldest first, so each group's last record is its newest.
type birthIndex struct {
	entries []birthEntry
	last    string
}

type birthEntry struct {
	id   [16]byte
	date int32 // yyyymmdd; 0 when the newest record states none
}

func (b *birthIndex) add(r model.MedicalRecord) {
	var d int32
	if !r.DateOfBirth.IsZero() {
		d = int32(r.DateOfBirth.Year()*10000 + int(r.DateOfBirth.Month())*100 + r.DateOfBirth.Day())
	}
	if r.UserID == b.last && len(b.entries) > 0 {
		if d != 0 {
			b.entries[len(b.entries)-1].date = d
		}
		return
	}
	id, err := uuid.Parse(r.UserID)
	if err != nil {
		// Ids are canonical UUIDs (db.Store); an owner that is not one
		// owns no Patient resource either.
		return
	}
	b.last = r.UserID
	b.entries = append(b.entries, birthEntry{id: id, date: d})
}

// sort orders the index by account, whatever order the engine's
// collation gave the groups.
func (b *birthIndex) sort() {
	slices.SortFunc(b.entries, func(x, y birthEntry) int { return compareIDs(x.id, y.id) })
}

// of is the date of birth of account id's records, and whether it has any.
func (b *birthIndex) of(id string) (model.Date, bool) {
	key, err := uuid.Parse(id)
	if err != nil {
		return model.Date{}, false
	}
	i, ok := slices.BinarySearchFunc(b.entries, key, func(e birthEntry, k uuid.UUID) int { return compareIDs(e.id, k) })
	if !ok {
		return model.Date{}, false
	}
	d := b.entries[i].date
	if d == 0 {
		return model.Date{}, true
	}
	return model.NewDate(int(d/10000), time.Month(d/100%100), int(d%100)), true
}

func compareIDs(a, b [16]byte) int {
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}
