package postgres_test

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

// exported is every row an export delivered, in order.
type exported struct {
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

// pipe is an ExportSink that keeps every row when tx is nil, and
// otherwise loads it into tx, failing with errInjected once failAt rows
// have gone through (0: never).
type pipe struct {
	tx     db.ImportTx
	failAt int
	rows   int
	got    exported
}

var errInjected = errors.New("injected failure")

func (p *pipe) Start(_ context.Context, t db.Tally) error { p.got.tally = t; return nil }

func pass[T any](ctx context.Context, p *pipe, rows []T, keep *[]T, load func(db.ImportTx) func(context.Context, []T) error) error {
	if p.tx == nil {
		*keep = append(*keep, rows...)
		return nil
	}
	if err := load(p.tx)(ctx, rows); err != nil {
		return err
	}
	p.rows += len(rows)
	if p.failAt > 0 && p.rows >= p.failAt {
		return errInjected
	}
	return nil
}

func (p *pipe) Users(ctx context.Context, r []db.UserRow) error {
	return pass(ctx, p, r, &p.got.users, func(tx db.ImportTx) func(context.Context, []db.UserRow) error { return tx.Users })
}
func (p *pipe) MedicalRecords(ctx context.Context, r []model.MedicalRecord) error {
	return pass(ctx, p, r, &p.got.records, func(tx db.ImportTx) func(context.Context, []model.MedicalRecord) error { return tx.MedicalRecords })
}
func (p *pipe) RefreshTokens(ctx context.Context, r []db.RefreshToken) error {
	return pass(ctx, p, r, &p.got.tokens, func(tx db.ImportTx) func(context.Context, []db.RefreshToken) error { return tx.RefreshTokens })
}
func (p *pipe) OTPCodes(ctx context.Context, r []db.OTPCode) error {
	return pass(ctx, p, r, &p.got.otps, func(tx db.ImportTx) func(context.Context, []db.OTPCode) error { return tx.OTPCodes })
}
func (p *pipe) SSHKeys(ctx context.Context, r []db.SSHKeyRow) error {
	return pass(ctx, p, r, &p.got.keys, func(tx db.ImportTx) func(context.Context, []db.SSHKeyRow) error { return tx.SSHKeys })
}
func (p *pipe) APITokens(ctx context.Context, r []db.APITokenRow) error {
	return pass(ctx, p, r, &p.got.apiKeys, func(tx db.ImportTx) func(context.Context, []db.APITokenRow) error { return tx.APITokens })
}
func (p *pipe) AuditEvents(ctx context.Context, r []model.AuditEvent) error {
	return pass(ctx, p, r, &p.got.events, func(tx db.ImportTx) func(context.Context, []model.AuditEvent) error { return tx.AuditEvents })
}
func (p *pipe) ResetRequests(ctx context.Context, r []db.ResetRequest) error {
	return pass(ctx, p, r, &p.got.resets, func(tx db.ImportTx) func(context.Context, []db.ResetRequest) error { return tx.ResetRequests })
}

func exportAll(t *testing.T, s db.Exporter) exported {
	t.Helper()
	var p pipe
	if err := s.Export(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	return p.got
}

// copyStores copies src into dst as anavara db copy does, failing after
// failAt rows when failAt > 0.
func copyStores(ctx context.Context, src db.Exporter, dst db.Importer, failAt int) error {
	return dst.Import(ctx, func(tx db.ImportTx) error {
		p := &pipe{tx: tx, failAt: failAt}
		if err := src.Export(ctx, p); err != nil {
			return err
		}
		if err := tx.Recount(ctx); err != nil {
			return err
		}
		got, err := tx.Tally(ctx)
		if err != nil {
			return err
		}
		return db.VerifyCopy(p.got.tally, got)
	})
}

// fillStore writes every kind of row into s: two users, a rotated and
// revoked refresh-token family and a live token, used and unused codes,
// SSH keys, n records and an audit event for each and one more.
func fillStore(t testing.TB, s db.Store, n int) {
	t.Helper()
	ctx := context.Background()
	when := base
	tick := func() time.Time { when = when.Add(time.Millisecond + time.Microsecond); return when }
	staff := db.UserRow{User: model.User{ID: uuid.NewString(), Email: "staff@example.org", FirstName: "Sam", LastName: "Staff",
		IsStaff: true, IsActive: true, Created: tick(), Updated: tick()}, PasswordHash: "argon2id$staff", TokenVersion: 3}
	patient := db.UserRow{User: model.User{ID: uuid.NewString(), Email: "elodie@example.org", FirstName: "Élodie", LastName: "Ünal",
		Created: tick(), Updated: tick()}, PasswordHash: "argon2id$patient"}
	err := s.Write(ctx, func(q db.Tx) error {
		for _, u := range []db.UserRow{staff, patient} {
			if err := q.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		// A user and (below) a record past version 1: the copy keeps versions.
		if err := q.SetPassword(ctx, staff.ID, "argon2id$staff-again", tick()); err != nil {
			return err
		}
		family, first, second := uuid.NewString(), uuid.NewString(), uuid.NewString()
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
		err := s.Write(ctx, func(q db.Tx) error {
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

// TestCopyPostgresToPostgres copies every kind of row; a first attempt
// that fails midway leaves the target empty, and the second, complete,
// leaves it equal to the source, the derived columns included.
func TestCopyPostgresToPostgres(t *testing.T) {
	ctx := context.Background()
	src, _ := openStore(t)
	fillStore(t, src, 2500)
	dst, _ := openStore(t)
	if err := copyStores(ctx, src, dst, 2001); !errors.Is(err, errInjected) {
		t.Fatalf("copy: %v, want the injected failure", err)
	}
	for table, n := range exportAll(t, dst).tally.Rows {
		if n != 0 {
			t.Fatalf("after a failed copy the target has %d %s", n, table)
		}
	}
	if err := copyStores(ctx, src, dst, 0); err != nil {
		t.Fatal(err)
	}
	want, got := exportAll(t, src), exportAll(t, dst)
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("the copy differs from its source:\nsource %+v\ncopy   %+v", want.tally, got.tally)
	}
	if len(want.records) != 2500 || len(want.events) != 2507 || len(want.tokens) != 3 || want.tokens[0].ChildID == "" ||
		len(want.apiKeys) != 2 || want.apiKeys[0].LastUsed == nil || want.apiKeys[1].RevokedAt == nil ||
		len(want.resets) != 2 || want.resets[0].Attempts != 1 || want.resets[0].ClaimedUntil == nil || want.resets[1].ClaimedUntil != nil {
		t.Fatalf("fill made %+v", want.tally)
	}
	rs, n, err := dst.Read().ListRecords(ctx, db.RecordFilter{Search: "élodie ünal 249", Limit: 20})
	if err != nil || n != 11 || len(rs) != 11 {
		t.Fatalf("search on the copy: %d records of %d, %v", len(rs), n, err)
	}
	if rs, n, err := dst.Read().ListRecords(ctx, db.RecordFilter{Doctor: "dr. öz", Ordering: "patient_name", Limit: 1}); err != nil || n != 2500 || rs[0].PatientName != "Élodie Ünal 0" {
		t.Fatalf("doctor filter on the copy: %v %d %v", rs, n, err)
	}
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
	src, _ := openStore(t)
	fillStore(t, src, 3)
	dst, _ := openStore(t)
	createUser(t, dst, "already@example.org")
	before := exportAll(t, dst)
	var ne *db.NotEmptyError
	if err := copyStores(ctx, src, dst, 0); !errors.As(err, &ne) || ne.Rows[db.TableUsers] != 1 {
		t.Fatalf("copy into a database with a user: %v", err)
	}
	if after := exportAll(t, dst); !reflect.DeepEqual(before, after) {
		t.Fatalf("the refused target changed: %+v → %+v", before.tally, after.tally)
	}
}

// snapshotProbe writes to the source after the first batch of records an
// export delivers, and counts what it delivers.
type snapshotProbe struct {
	pipe
	users, records int
	write          func()
}

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

func TestExportReadsOneSnapshot(t *testing.T) {
	ctx := context.Background()
	src, _ := openStore(t)
	fillStore(t, src, 1500)
	s := &snapshotProbe{write: func() {
		u := createUser(t, src, "late@example.org")
		write(t, src, func(ctx context.Context, tx db.Tx) error {
			return tx.CreateRecord(ctx, model.MedicalRecord{ID: uuid.NewString(), UserID: u.ID, PatientName: "Late",
				DateOfBirth: model.NewDate(2000, 1, 1), DateOfTreatment: model.NewDate(2026, 1, 1), Doctor: "X", Created: base, Updated: base})
		})
	}}
	if err := src.Export(ctx, s); err != nil {
		t.Fatal(err)
	}
	if s.records != 1500 || s.users != 2 || s.got.tally.Rows[db.TableMedicalRecords] != 1500 {
		t.Fatalf("export saw %d records and %d users of a snapshot of %v", s.records, s.users, s.got.tally.Rows)
	}
}

// TestCopySpeed measures copies of COPY_RECORDS records (and as many
// audit events) from SQLite to PostgreSQL and back; it runs only when that
// is set.
func TestCopySpeed(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("COPY_RECORDS"))
	if n == 0 {
		t.Skip("set COPY_RECORDS to measure a copy")
	}
	ctx := context.Background()
	dir := t.TempDir()
	lite, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(dir, "src.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	fillStore(t, lite, n)
	pg, _ := openStore(t)
	measure := func(what string, src db.Exporter, dst db.Importer) {
		start := time.Now()
		if err := copyStores(ctx, src, dst, 0); err != nil {
			t.Fatal(err)
		}
		elapsed := time.Since(start)
		rows := 2*n + 10
		t.Logf("%s: copied %d rows in %s: %.0f rows/s", what, rows, elapsed, float64(rows)/elapsed.Seconds())
	}
	measure("SQLite → PostgreSQL", lite, pg)
	back, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(dir, "back.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	measure("PostgreSQL → SQLite", pg, back)
}
