package export_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/model"
)

// fixture is a database seeded with two patients, a patient without
// records, a staff member, records whose text is every kind of awkward,
// and audit events of every shape an access log holds.
type fixture struct {
	store        db.Store
	ann, bob, cy model.User
	sam          model.User
	annRecords   []model.MedicalRecord
	bobRecords   []model.MedicalRecord
	events       []model.AuditEvent
	annLog       []string // ids of the events in Ann's access log, oldest first
	annBirth     model.Date
}

// awkward texts: CSV's delimiters, spreadsheet formulas, HTML, Unicode.
var awkward = []string{
	`Fracture, left "wrist"`,
	"Line one\nline two\r\nline three",
	"=HYPERLINK(\"http://evil\",\"x\")",
	"+1 tablet daily",
	"-2 units",
	"@SUM(A1:A2)",
	"\tindented",
	"Zoë Ñandú — 日本語 <b>&amp;</b> 🙂",
}

func seed(t *testing.T) *fixture {
	t.Helper()
	store, _ := testenv.OpenStore(t, sqlite.Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	user := func(i int, first, last string, staff bool) model.User {
		return model.User{ID: uuid.NewString(), Email: uuid.NewString()[:8] + "@example.org", FirstName: first, LastName: last,
			IsStaff: staff, IsActive: true, Created: at(i), Updated: at(i), Version: 1}
	}
	f := &fixture{store: store,
		ann: user(0, "Ann", "Lee-Ñandú", false), bob: user(1, "Bob", "Baker", false),
		cy: user(2, "Cy", "", false), sam: user(3, "Sam", "Staff", true)}
	f.cy.IsActive = false
	rec := func(i int, owner model.User, name string, born model.Date, text string) model.MedicalRecord {
		return model.MedicalRecord{ID: uuid.NewString(), UserID: owner.ID, PatientName: name, DateOfBirth: born,
			Diagnosis: text, Treatment: "Treat: " + text, DateOfTreatment: model.NewDate(2026, 4, 1+i),
			Doctor: "Dr. " + text, Created: at(10 + i), Updated: at(20 + i), Version: 1}
	}
	for i, text := range awkward {
		born := model.NewDate(1990, 4, 1)
		if i == len(awkward)-1 {
			// The newest record disagrees: it gives the Patient's birth date.
			born = model.NewDate(1990, 4, 2)
		}
		f.annRecords = append(f.annRecords, rec(i, f.ann, "Ann "+text, born, text))
	}
	f.annBirth = model.NewDate(1990, 4, 2)
	f.bobRecords = []model.MedicalRecord{rec(len(awkward), f.bob, "Bob Baker", model.NewDate(1970, 1, 31), "Gout")}
	err := store.Write(ctx, func(q db.Tx) error {
		for _, u := range []model.User{f.ann, f.bob, f.cy, f.sam} {
			if err := q.CreateUser(ctx, db.UserRow{User: u, PasswordHash: "x"}); err != nil {
				return err
			}
		}
		for _, r := range append(append([]model.MedicalRecord{}, f.annRecords...), f.bobRecords...) {
			if err := q.CreateRecord(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	annRec, bobRec := f.annRecords[0].ID, f.bobRecords[0].ID
	event := func(i int, actor *model.User, action, entity, entityID string, via, ip string) model.AuditEvent {
		e := model.AuditEvent{ID: uuid.NewString(), At: at(100 + i), Action: action, Entity: entity, IP: ip, Via: via}
		if actor != nil {
			e.ActorID = &actor.ID
		}
		if entityID != "" {
			e.EntityID = &entityID
		}
		return e
	}
	read := event(0, &f.sam, model.ActionRecordRead, model.EntityRecord, annRec, model.ViaAPI, "203.0.113.7")
	read.SubjectIDs = []string{f.ann.ID}
	list := event(1, &f.sam, model.ActionRecordList, model.EntityRecord, "", model.ViaSSH, "198.51.100.2")
	list.RecordIDs, list.SubjectIDs = []string{annRec, bobRec}, []string{f.ann.ID, f.bob.ID}
	own := event(2, &f.ann, model.ActionRecordRead, model.EntityRecord, annRec, model.ViaAPI, "192.0.2.1")
	own.SubjectIDs = []string{f.ann.ID}
	update := event(3, &f.sam, model.ActionUserUpdate, model.EntityUser, f.ann.ID, model.ViaAPI, "2001:db8::1")
	update.SubjectIDs = []string{f.ann.ID}
	bobRead := event(4, &f.sam, model.ActionRecordRead, model.EntityRecord, bobRec, model.ViaAPI, "203.0.113.7")
	bobRead.SubjectIDs = []string{f.bob.ID}
	samToken := uuid.NewString()
	bobRead.TokenID = &samToken // Sam read it through an API token
	cli := event(5, nil, model.ActionPopulationExport, model.EntityDatabase, "", model.ViaCLI, "local")
	failed := event(6, nil, model.ActionLoginFailed, model.EntityUser, f.ann.ID, model.ViaAPI, "192.0.2.9")
	revoke := event(7, &f.sam, model.ActionTokenRevoke, model.EntityAPIToken, samToken, model.ViaAPI, "203.0.113.7")
	revoke.SubjectIDs = []string{f.sam.ID}
	f.events = []model.AuditEvent{read, list, own, update, bobRead, cli, failed, revoke}
	err = store.Write(ctx, func(q db.Tx) error {
		for _, e := range f.events {
			if err := q.InsertAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// What the access log shows Ann is the lead's (db AccessLog): every
	// event of someone else about her data, and every population export.
	f.annLog = []string{read.ID, list.ID, update.ID, cli.ID}
	// The stored rows, as the store keeps them (times to the microsecond).
	for i, r := range f.annRecords {
		f.annRecords[i] = stored(t, store, r.ID)
	}
	f.bobRecords[0] = stored(t, store, bobRec)
	return f
}

func stored(t *testing.T, store db.Store, id string) model.MedicalRecord {
	t.Helper()
	r, err := store.Read().RecordByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// snapshot runs fn on a snapshot of the fixture's store.
func (f *fixture) snapshot(t *testing.T, fn func(db.Snapshot) error) {
	t.Helper()
	if err := f.store.Snapshot(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}
