// Package dbtest is the storage conformance suite: one set of tests that
// every engine behind db.Store (db/sqlite, db/postgres) must pass, so that
// the server gets the same answers whichever database it runs on.
//
// An engine's own tests call Run with a function that opens a fresh,
// migrated, empty store:
//
//	func TestConformance(t *testing.T) {
//		dbtest.Run(t, func(t *testing.T) db.Store {
//			s, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
package dbtest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// Run runs the conformance suite as subtests of t. Every subtest calls
// open for a store of its own, fresh and empty; open registers the store's
// cleanup (closing it) with the t it is given, and must cope with the
// suite having closed the store already. Subtests call open in parallel
// (t.Parallel), so open must be safe for concurrent use.
func Run(t *testing.T, open func(t *testing.T) db.Store) {
	groups := []struct {
		name  string
		tests []test
		// parallel runs the group's tests in parallel with each other
		// (as far as go test -parallel allows): opening a fresh store
		// is much of a test's time on a database server.
		parallel bool
	}{
		{"Store", storeTests, true},
		{"Write", writeTests, true},
		{"Users", userTests, true},
		{"Records", recordTests, true},
		{"OTP", otpTests, true},
		{"ResetRequests", resetRequestTests, true},
		{"IdempotencyKeys", idempotencyTests, true},
		{"RefreshTokens", refreshTests, true},
		{"SSHKeys", sshKeyTests, true},
		{"APITokens", apiTokenTests, true},
		{"Audit", auditTests, true},
		{"AuditChain", auditChainTests, true},
		{"AccessLog", accessLogTests, true},
		{"Snapshot", snapshotTests, true},
		{"Lists", emptyListTests, true},
		{"Keyset", keysetTests, true},
		{"MalformedIDs", malformedIDTests, true},
		{"Versions", versionTests, true},
		// The races run one at a time, each with the CPUs to itself.
		{"Concurrency", concurrencyTests, false},
		{"VersionRaces", versionRaceTests, false},
		{"IdempotencyRaces", idempotencyRaceTests, false},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					if g.parallel {
						t.Parallel()
					}
					tc.fn(t, open(t))
				})
			}
		})
	}
}

// test is one subtest of the suite, run on a fresh store.
type test struct {
	name string
	fn   func(t *testing.T, s db.Store)
}

// t0 is the suite's clock: a time with microsecond precision (what every
// engine stores), in UTC. Stored times are passed in another zone, zone,
// to check that they come back as the same instant in UTC.
var (
	t0   = time.Date(2031, time.May, 6, 7, 8, 9, 123456000, time.UTC)
	zone = time.FixedZone("UTC+05:30", 5*3600+1800)
)

// at is t0 moved by d, in zone.
func at(d time.Duration) time.Time { return t0.Add(d).In(zone) }

// sec is t0 moved by n seconds, in zone.
func sec(n int) time.Time { return at(time.Duration(n) * time.Second) }

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// write runs fn in a write transaction and fails the test if it fails.
func write(t *testing.T, s db.Store, fn func(tx db.Tx) error) {
	t.Helper()
	if err := s.Write(t.Context(), fn); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// wantErr fails the test unless err is target (nil: no error), as
// errors.Is sees it.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	switch {
	case target == nil && err != nil:
		t.Errorf("%s: %v, want no error", what, err)
	case target != nil && !errors.Is(err, target):
		t.Errorf("%s: %v, want %v", what, err, target)
	}
}

// mustErr is wantErr that stops the test.
func mustErr(t *testing.T, what string, err, target error) {
	t.Helper()
	wantErr(t, what, err, target)
	if t.Failed() {
		t.FailNow()
	}
}

// sameTime reports whether got is the instant want, in UTC.
func sameTime(got, want time.Time) bool {
	return got.Equal(want) && got.Location() == time.UTC
}

// checkTime fails the test unless got is want's instant, in UTC.
func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !sameTime(got, want) {
		t.Errorf("%s: %v (%s), want %v in UTC", what, got, got.Location(), want.UTC())
	}
}

// checkOptTime is checkTime for a nullable time.
func checkOptTime(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	switch {
	case want == nil && got != nil:
		t.Errorf("%s: %v, want nil", what, *got)
	case want != nil && got == nil:
		t.Errorf("%s: nil, want %v", what, want.UTC())
	case want != nil:
		checkTime(t, what, *got, *want)
	}
}

// checkBytes fails the test unless got equals want (nil and empty alike).
func checkBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s: %x, want %x", what, got, want)
	}
}

// randomBytes returns n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

// newUser is an active patient account with email, created at created, not
// yet stored.
func newUser(email string, created time.Time) db.UserRow {
	return db.UserRow{
		User: model.User{ID: uuid.NewString(), Email: email, FirstName: "Ann", LastName: "Example",
			IsActive: true, Created: created, Updated: created},
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
	}
}

// createUser stores a new user with email and returns it.
func createUser(t *testing.T, s db.Store, email string) db.UserRow {
	t.Helper()
	u := newUser(email, at(0))
	write(t, s, func(tx db.Tx) error { return tx.CreateUser(t.Context(), u) })
	return u
}

// newRecord is a record of user's, created and updated at created, not yet
// stored.
func newRecord(userID string, created time.Time) model.MedicalRecord {
	return model.MedicalRecord{
		ID: uuid.NewString(), UserID: userID, PatientName: "Ann Example",
		DateOfBirth: model.NewDate(1980, time.February, 29), Diagnosis: "Flu", Treatment: "Rest",
		DateOfTreatment: model.NewDate(2031, time.June, 1), Doctor: "Dr. House",
		Created: created, Updated: created,
	}
}

// createRecords stores rs in one transaction.
func createRecords(t *testing.T, s db.Store, rs ...model.MedicalRecord) {
	t.Helper()
	write(t, s, func(tx db.Tx) error {
		for _, r := range rs {
			if err := tx.CreateRecord(t.Context(), r); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkRecord fails the test unless got holds every field of want.
func checkRecord(t *testing.T, what string, got, want model.MedicalRecord) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.PatientName != want.PatientName ||
		got.Diagnosis != want.Diagnosis || got.Treatment != want.Treatment || got.Doctor != want.Doctor {
		t.Errorf("%s: %+v\nwant %+v", what, got, want)
	}
	if got.DateOfBirth.String() != want.DateOfBirth.String() || got.DateOfTreatment.String() != want.DateOfTreatment.String() {
		t.Errorf("%s: dates %s, %s; want %s, %s", what, got.DateOfBirth, got.DateOfTreatment, want.DateOfBirth, want.DateOfTreatment)
	}
	checkTime(t, what+" created", got.Created, want.Created)
	checkTime(t, what+" updated", got.Updated, want.Updated)
}

// checkUser fails the test unless got holds every field of want.
func checkUser(t *testing.T, what string, got, want model.User) {
	t.Helper()
	if got.ID != want.ID || got.Email != want.Email || got.FirstName != want.FirstName ||
		got.LastName != want.LastName || got.IsStaff != want.IsStaff || got.IsActive != want.IsActive {
		t.Errorf("%s: %+v\nwant %+v", what, got, want)
	}
	checkTime(t, what+" created", got.Created, want.Created)
	checkTime(t, what+" updated", got.Updated, want.Updated)
}

// checkUserRow is checkUser plus the secrets.
func checkUserRow(t *testing.T, what string, got, want db.UserRow) {
	t.Helper()
	checkUser(t, what, got.User, want.User)
	if got.PasswordHash != want.PasswordHash || got.TokenVersion != want.TokenVersion {
		t.Errorf("%s: hash %q, token version %d; want %q, %d", what, got.PasswordHash, got.TokenVersion, want.PasswordHash, want.TokenVersion)
	}
}

// ids returns the ids of xs.
func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func recordID(r model.MedicalRecord) string { return r.ID }
func userID(u model.User) string            { return u.ID }
func eventID(e model.AuditEvent) string     { return e.ID }

// checkIDs fails the test unless got lists want, in order.
func checkIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}

// concurrently runs fn(0) … fn(n-1) at once, each in a goroutine of its
// own released together, and returns their errors.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var ready, wg sync.WaitGroup
	ready.Add(n)
	for i := range n {
		wg.Go(func() {
			ready.Done()
			<-start
			errs[i] = fn(i)
		})
	}
	ready.Wait()
	close(start)
	wg.Wait()
	return errs
}

// tally counts errs by outcome: nil, each of targets, and anything else
// (described in other).
func tally(errs []error, targets ...error) (ok int, byTarget []int, other []string) {
	byTarget = make([]int, len(targets))
next:
	for i, err := range errs {
		if err == nil {
			ok++
			continue
		}
		for j, target := range targets {
			if errors.Is(err, target) {
				byTarget[j]++
				continue next
			}
		}
		other = append(other, fmt.Sprintf("#%d: %v", i, err))
	}
	return ok, byTarget, other
}
