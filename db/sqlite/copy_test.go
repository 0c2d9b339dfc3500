package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/model"
)

// collected is every row an export delivered, in order.
type collected struct {
	tally   db.Tally
	users   []db.UserRow
	records []model.MedicalRecord
	tokens  []db.RefreshToken
	otps    []db.OTPCode
	keys    []db.SSHKeyRow
	apiKeys []db.APITokenRow
	events  []model.AuditEvent
	resets  []db.ResetRequest
}

// collector is an ExportSink that keeps every row (tests only: a real
// copy never holds the database in memory).
type collector struct{ c collected }

func (s *collector) Start(_ context.Context, t db.Tally) error { s.c.tally = t; return nil }
func (s *collector) Users(_ context.Context, r []db.UserRow) error {
	s.c.users = append(s.c.users, r...)
	return nil
}
func (s *collector) MedicalRecords(_ context.Context, r []model.MedicalRecord) error {
	s.c.records = append(s.c.records, r...)
	return nil
}
func (s *collector) RefreshTokens(_ context.Context, r []db.RefreshToken) error {
	s.c.tokens = append(s.c.tokens, r...)
	return nil
}
func (s *collector) OTPCodes(_ context.Context, r []db.OTPCode) error {
	s.c.otps = append(s.c.otps, r...)
	return nil
}
func (s *collector) SSHKeys(_ context.Context, r []db.SSHKeyRow) error {
	s.c.keys = append(s.c.keys, r...)
	return nil
}
func (s *collector) APITokens(_ context.Context, r []db.APITokenRow) error {
	s.c.apiKeys = append(s.c.apiKeys, r...)
	return nil
}
func (s *collector) AuditEvents(_ context.Context, r []model.AuditEvent) error {
	s.c.events = append(s.c.events, r...)
	return nil
}

func (s *collector) ResetRequests(_ context.Context, r []db.ResetRequest) error {
	s.c.resets = append(s.c.resets, r...)
	return nil
}

func exportAll(t *testing.T, d *sqlite.Store) collected {
	t.Helper()
	var s collector
	if err := d.Export(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	return s.c
}

// forwarder is an ExportSink that loads every batch into tx, failing with
// failAt once that many rows have gone through (0: never).
type forwarder struct {
	tx     db.ImportTx
	source db.Tally
	rows   int
	failAt int
}

var errInjected = errors.New("injected failure")

func (f *forwarder) Start(_ context.Context, t db.Tally) error { f.source = t; return nil }

func fwd[T any](ctx context.Context, f *forwarder, rows []T, load func(context.Context, []T) error) error {
	if err := load(ctx, rows); err != nil {
		return err
	}
	f.rows += len(rows)
	if f.failAt > 0 && f.rows >= f.failAt {
		return errInjected
	}
	return nil
}
func (f *forwarder) Users(ctx context.Context, r []db.UserRow) error {
	return fwd(ctx, f, r, f.tx.Users)
}
func (f *forwarder) MedicalRecords(ctx context.Context, r []model.MedicalRecord) error {
	return fwd(ctx, f, r, f.tx.MedicalRecords)
}
func (f *forwarder) RefreshTokens(ctx context.Context, r []db.RefreshToken) error {
	return fwd(ctx, f, r, f.tx.RefreshTokens)
}
func (f *forwarder) OTPCodes(ctx context.Context, r []db.OTPCode) error {
	return fwd(ctx, f, r, f.tx.OTPCodes)
}
func (f *forwarder) SSHKeys(ctx context.Context, r []db.SSHKeyRow) error {
	return fwd(ctx, f, r, f.tx.SSHKeys)
}
func (f *forwarder) APITokens(ctx context.Context, r []db.APITokenRow) error {
	return fwd(ctx, f, r, f.tx.APITokens)
}
func (f *forwarder) AuditEvents(ctx context.Context, r []model.AuditEvent) error {
	return fwd(ctx, f, r, f.tx.AuditEvents)
}
func (f *forwarder) ResetRequests(ctx context.Context, r []db.ResetRequest) error {
	return fwd(ctx, f, r, f.tx.ResetRequests)
}

// copyStore copies src into dst as anavara db copy does, failing after
// failAt rows when failAt > 0.
func copyStore(ctx context.Context, src, dst *sqlite.Store, failAt int) error {
	return dst.Import(ctx, func(tx db.ImportTx) error {
		f := &forwarder{tx: tx, failAt: failAt}
		if err := src.Export(ctx, f); err != nil {
			return err
		}
		if err := tx.Recount(ctx); err != nil {
			return err
		}
		got, err := tx.Tally(ctx)
		if err != nil {
			return err
		}
		return db.VerifyCopy(f.source, got)
	})
}

// fill writes every kind of row into d through its Tx: n records and
// audit events, a rotated and revoked refresh-token family, used and
// unused codes, an SSH key with and without a last use.
func fill(t testing.TB, d *sqlite.Store, n int) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 0, 0, 123456000, time.UTC)
	tick := func() time.Time { at = at.Add(time.Millisecond + time.Microsecond); return at }
	staff := db.UserRow{User: model.User{ID: uuid.NewString(), Email: "staff@example.org", FirstName: "Sam", LastName: "Staff",
		IsStaff: true, IsActive: true, Created: tick(), Updated: tick()}, PasswordHash: "argon2id$staff", TokenVersion: 3}
	patient := db.UserRow{User: model.User{ID: uuid.NewString(), Email: "élodie@example.org", FirstName: "Élodie", LastName: "Ünal",
		IsActive: false, Created: tick(), Updated: tick()}, PasswordHash: "argon2id$patient"}
	err := d.Write(ctx, func(q db.Tx) error {
		for _, u := range []db.UserRow{staff, patient} {
			if err := q.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		// A user and (below) a record past version 1: the copy keeps versions.
		if err := q.SetPassword(ctx, staff.ID, "argon2id$staff-again", tick()); err != nil {
			return err
		}
		family := uuid.NewString()
		first, second := uuid.NewString(), uuid.NewString()
		for i, id := range []string{first, second} {
			if err := q.CreateRefreshToken(ctx, db.RefreshToken{ID: id, UserID: patient.ID, FamilyID: family,
				Hash: []byte("hash-" + strconv.Itoa(i)), Created: tick(), ExpiresAt: tick().Add(24 * time.Hour)}); err != nil {
				return err
			}
		}
		if err := q.MarkRefreshTokenUsed(ctx, first, tick(), []byte("fingerprint"), second); err != nil {
			return err
		}
		if err := q.UseRefreshGrace(ctx, first, tick()); err != nil {
			return err
		}
		if err := q.RevokeRefreshFamily(ctx, family, tick()); err != nil {
			return err
		}
		if err := q.CreateRefreshToken(ctx, db.RefreshToken{ID: uuid.NewString(), UserID: staff.ID, FamilyID: uuid.NewString(),
			Hash: []byte("live"), Created: tick(), ExpiresAt: tick().Add(time.Hour)}); err != nil {
			return err
		}
		for i := range 2 {
			c := db.OTPCode{ID: uuid.NewString(), UserID: patient.ID, Hash: []byte("otp" + strconv.Itoa(i)), Created: tick(), ExpiresAt: tick().Add(time.Hour)}
			if err := q.CreateOTP(ctx, c); err != nil {
				return err
			}
			if err := q.CountOTPAttempt(ctx, c.ID); err != nil {
				return err
			}
		}
		for i := range 2 {
			r := db.ResetRequest{ID: uuid.NewString(), Email: "pending" + strconv.Itoa(i) + "@example.org", IP: "192.0.2.1",
				RequestID: "request " + strconv.Itoa(i), RequestedAt: tick()}
			if err := q.EnqueueResetRequest(ctx, r); err != nil {
				return err
			}
		}
		// One of them claimed: its attempts and lease are copied too.
		if _, err := q.ClaimResetRequests(ctx, tick(), time.Minute, 1); err != nil {
			return err
		}
		for i, u := range []db.UserRow{staff, patient} {
			k := db.SSHKeyRow{SSHKey: model.SSHKey{ID: uuid.NewString(), Name: "key " + strconv.Itoa(i), Type: "ssh-ed25519",
				Fingerprint: "SHA256:" + strconv.Itoa(i), Created: tick()}, UserID: u.ID, PublicKey: "ssh-ed25519 AAAA" + strconv.Itoa(i)}
			if err := q.CreateSSHKey(ctx, k); err != nil {
				return err
			}
			if i == 0 {
				if err := q.TouchSSHKey(ctx, k.ID, tick()); err != nil {
					return err
				}
			}
		}
		// API tokens: one used, one revoked, and an event one made.
		for i, u := range []db.UserRow{staff, patient} {
			k := db.APITokenRow{APIToken: model.APIToken{ID: uuid.NewString(), Name: "job " + strconv.Itoa(i),
				Scopes: []string{model.ScopeRecordsRead, model.ScopeUsersRead}, Created: tick(), Expires: tick().Add(24 * time.Hour)},
				UserID: u.ID, Hash: []byte("api-token-hash-" + strconv.Itoa(i))}
			if err := q.CreateAPIToken(ctx, k); err != nil {
				return err
			}
			if i == 0 {
				if err := q.TouchAPIToken(ctx, k.ID, tick()); err != nil {
					return err
				}
				if err := q.InsertAudit(ctx, model.AuditEvent{ID: uuid.NewString(), At: tick(), ActorID: &u.ID, Action: model.ActionAccessLogRead,
					Entity: model.EntityUser, EntityID: &u.ID, SubjectIDs: []string{u.ID}, IP: "192.0.2.1", TokenID: &k.ID}); err != nil {
					return err
				}
			} else if err := q.RevokeAPIToken(ctx, u.ID, k.ID, tick()); err != nil {
				return err
			}
		}
		return q.InsertAudit(ctx, model.AuditEvent{ID: uuid.NewString(), At: tick(), Action: model.ActionLoginFailed,
			Entity: model.EntityUser, IP: "192.0.2.1"})
	})
	if err != nil {
		t.Fatal(err)
	}
	for start := 0; start < n; start += 1000 {
		err := d.Write(ctx, func(q db.Tx) error {
			for i := start; i < min(n, start+1000); i++ {
				r := model.MedicalRecord{ID: uuid.NewString(), UserID: patient.ID, PatientName: fmt.Sprintf("Élodie Ünal %d", i),
					DateOfBirth: model.NewDate(1990, 2, 28), Diagnosis: "Grippe\nline two", Treatment: "Rest",
					DateOfTreatment: model.NewDate(2026, 1, 1+i%28), Doctor: "Dr. Öz", Created: tick(), Updated: tick()}
				if err := q.CreateRecord(ctx, r); err != nil {
					return err
				}
				if i%500 == 0 {
					r.Diagnosis, r.Updated = "Grippe, again", tick()
					if err := q.UpdateRecord(ctx, r); err != nil {
						return err
					}
					// A list that served it: the copy must find it by the record.
					if err := q.InsertAudit(ctx, model.AuditEvent{ID: uuid.NewString(), At: tick(), ActorID: &staff.ID,
						Action: model.ActionRecordList, Entity: model.EntityRecord, IP: "203.0.113.9",
						Detail: []byte(`{"page":1,"page_size":20,"count":2500}`), RecordIDs: []string{r.ID, patient.ID}}); err != nil {
						return err
					}
				}
				rid := r.ID
				if err := q.InsertAudit(ctx, model.AuditEvent{ID: uuid.NewString(), At: r.Created, ActorID: &staff.ID,
					Action: model.ActionRecordCreate, Entity: model.EntityRecord, EntityID: &rid, IP: "203.0.113.9"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestCopyKeepsEveryRowAndColumn(t *testing.T) {
	ctx := context.Background()
	src := open(t, sqlite.Options{})
	fill(t, src, 2500) // three batches of records and of audit events
	dst := open(t, sqlite.Options{})
	if err := copyStore(ctx, src, dst, 0); err != nil {
		t.Fatal(err)
	}
	want, got := exportAll(t, src), exportAll(t, dst)
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("the copy differs from its source:\nsource %+v\ncopy   %+v", want.tally, got.tally)
	}
	if want.tally.Rows[db.TableMedicalRecords] != 2500 || want.tally.Rows[db.TableAuditEvents] != 2507 ||
		len(want.apiKeys) != 2 || want.apiKeys[0].LastUsed == nil || want.apiKeys[1].RevokedAt == nil ||
		len(want.tokens) != 3 || want.tokens[0].GraceUsedAt == nil || want.tokens[0].ChildID == "" || len(want.otps) != 2 || len(want.keys) != 2 ||
		len(want.resets) != 2 || want.resets[0].Attempts != 1 || want.resets[0].ClaimedUntil == nil || want.resets[1].ClaimedUntil != nil {
		t.Fatalf("fill made %+v", want.tally)
	}
	// The derived columns are written as the engine's own writes write them:
	// search finds the copied records ignoring case beyond ASCII.
	rs, n, err := dst.Read().ListRecords(ctx, db.RecordFilter{Search: "élodie ünal 249", Limit: 20})
	if err != nil || n != 11 || len(rs) != 11 {
		t.Fatalf("search on the copy: %d records of %d, %v", len(rs), n, err)
	}
	us, n, err := dst.Read().ListUsers(ctx, db.UserFilter{Search: "ÉLODIE", Limit: 20})
	if err != nil || n != 1 || len(us) != 1 {
		t.Fatalf("user search on the copy: %v %d %v", us, n, err)
	}
	// The unfiltered lists' totals come from the recounted counters.
	if _, n, err := dst.Read().ListAudit(ctx, db.AuditFilter{Limit: 1}); err != nil || n != 2507 {
		t.Fatalf("audit total on the copy: %d, %v", n, err)
	}
	// The copy indexes the records each list served.
	lists, n, err := dst.Read().ListAudit(ctx, db.AuditFilter{Action: model.ActionRecordList, Limit: 10})
	if err != nil || n != 5 || len(lists[0].RecordIDs) != 2 {
		t.Fatalf("list events on the copy: %+v, %d, %v", lists, n, err)
	}
	if seen, n, err := dst.Read().ListAudit(ctx, db.AuditFilter{EntityID: lists[0].RecordIDs[0], Limit: 10}); err != nil || n != 2 || seen[0].ID != lists[0].ID {
		t.Fatalf("events of a record served on the copy: %+v, %d, %v", seen, n, err)
	}
}

func TestImportRefusesANonEmptyTarget(t *testing.T) {
	ctx := context.Background()
	src := open(t, sqlite.Options{})
	fill(t, src, 3)
	dst := open(t, sqlite.Options{})
	newUser(t, dst, "already@example.org")
	before := exportAll(t, dst)
	err := copyStore(ctx, src, dst, 0)
	var ne *db.NotEmptyError
	if !errors.As(err, &ne) || ne.Rows[db.TableUsers] != 1 {
		t.Fatalf("copy into a database with a user: %v", err)
	}
	if after := exportAll(t, dst); !reflect.DeepEqual(before, after) {
		t.Fatalf("the refused target changed: %+v → %+v", before.tally, after.tally)
	}
}

func TestImportFailingMidwayLeavesTheTargetEmpty(t *testing.T) {
	ctx := context.Background()
	src := open(t, sqlite.Options{})
	fill(t, src, 2500)
	dst := open(t, sqlite.Options{})
	// The users, tokens, codes and keys and 2,000 records are in when it fails.
	if err := copyStore(ctx, src, dst, 2001); !errors.Is(err, errInjected) {
		t.Fatalf("copy: %v, want the injected failure", err)
	}
	got := exportAll(t, dst)
	for _, table := range db.CopyTables {
		if got.tally.Rows[table] != 0 {
			t.Fatalf("after a failed copy the target holds %+v", got.tally.Rows)
		}
	}
	// And a second attempt succeeds.
	if err := copyStore(ctx, src, dst, 0); err != nil {
		t.Fatal(err)
	}
}

func TestExportReadsOneSnapshot(t *testing.T) {
	ctx := context.Background()
	src := open(t, sqlite.Options{})
	fill(t, src, 1500)
	var s snapshotProbe
	s.write = func() {
		// Lands in the middle of the export: after the tally and the
		// users, before the records are read past the first batch.
		u := newUser(t, src, "late@example.org")
		err := src.Write(ctx, func(q db.Tx) error {
			return q.CreateRecord(ctx, model.MedicalRecord{ID: uuid.NewString(), UserID: u.ID, PatientName: "Late",
				DateOfBirth: model.NewDate(2000, 1, 1), DateOfTreatment: model.NewDate(2026, 1, 1), Doctor: "X",
				Created: time.Now(), Updated: time.Now()})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := src.Export(ctx, &s); err != nil {
		t.Fatal(err)
	}
	if s.records != 1500 || s.users != 2 || s.tally.Rows[db.TableMedicalRecords] != 1500 {
		t.Fatalf("export saw %d records and %d users of a snapshot of %v", s.records, s.users, s.tally.Rows)
	}
}

// snapshotProbe counts what an export delivers and writes to the source
// once, after its first batch of records.
type snapshotProbe struct {
	collector
	tally          db.Tally
	users, records int
	write          func()
}

func (s *snapshotProbe) Start(_ context.Context, t db.Tally) error { s.tally = t; return nil }
func (s *snapshotProbe) Users(_ context.Context, r []db.UserRow) error {
	s.users += len(r)
	return nil
}
func (s *snapshotProbe) MedicalRecords(_ context.Context, r []model.MedicalRecord) error {
	if s.records == 0 {
		s.write()
	}
	s.records += len(r)
	return nil
}

// TestCopySpeed measures a SQLite-to-SQLite copy of COPY_RECORDS records
// (and as many audit events); it runs only when that is set.
func TestCopySpeed(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("COPY_RECORDS"))
	if n == 0 {
		t.Skip("set COPY_RECORDS to measure a copy")
	}
	ctx := context.Background()
	dir := t.TempDir()
	src := open(t, sqlite.Options{Path: filepath.Join(dir, "src.db")})
	fill(t, src, n)
	dst := open(t, sqlite.Options{Path: filepath.Join(dir, "dst.db")})
	start := time.Now()
	if err := copyStore(ctx, src, dst, 0); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	rows := 2*n + 10
	t.Logf("copied %d rows in %s: %.0f rows/s", rows, elapsed, float64(rows)/elapsed.Seconds())
}
