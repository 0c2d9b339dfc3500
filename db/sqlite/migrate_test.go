package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/anavara/anavara/db"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pressly/goose/v3"
)

// openAt opens a fresh database migrated up to version only.
func openAt(t *testing.T, version int64) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "anavara.db")
	conn, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := migrations(t, conn).UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return conn, path
}

// openAtWithUser is openAt holding one user, id 'u', and a function that
// runs a statement on it, failing t on error: what the tests of a
// migration over existing rows start from.
func openAtWithUser(t *testing.T, version int64) (*sql.DB, func(q string, args ...any)) {
	t.Helper()
	conn, _ := openAt(t, version)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(context.Background(), q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO users (id, email, first_name, last_name, password_hash, is_staff, is_active, created, updated)
		VALUES ('u', 'u@example.org', 'U', 'Ser', 'x', 0, 1, 0, 0)`)
	return conn, exec
}

// migrations returns a goose provider of the embedded migrations on conn,
// for tests that move between schema versions.
func migrations(t *testing.T, conn *sql.DB) *goose.Provider {
	t.Helper()
	p, err := newProvider(conn)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Migration 4 rebuilds the audit table in time order; every event must come
// through, in the same newest-first order, and the table must stay
// append-only.
func TestAuditTimeOrderMigrationKeepsEvents(t *testing.T) {
	ctx := context.Background()
	old, path := openAt(t, 3)
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var want []string
	for i := range 50 {
		id := uuid.NewString()
		// Pairs of events share a microsecond, as events of concurrent
		// requests may.
		at := base.Add(time.Duration(i/2) * time.Microsecond)
		if _, err := old.ExecContext(ctx, `INSERT INTO audit_events (id, at, actor_id, action, entity, entity_id, ip) VALUES (?,?,?,?,?,?,?)`,
			id, micros(at), nil, "record.read", "medical_record", uuid.NewString(), "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	old.Close()

	d, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if v, err := d.Version(ctx); err != nil || v < 4 {
		t.Fatalf("version %d, %v", v, err)
	}
	events, count, err := d.Read().ListAudit(ctx, db.AuditFilter{Limit: 100})
	if err != nil || count != len(want) || len(events) != len(want) {
		t.Fatalf("%d events of %d after migrating, %v; want %d", len(events), count, err, len(want))
	}
	seen := map[string]bool{}
	for i, e := range events {
		seen[e.ID] = true
		if i > 0 && e.At.After(events[i-1].At) {
			t.Fatalf("event %d at %v after event %d at %v: not newest first", i, e.At, i-1, events[i-1].At)
		}
	}
	for _, id := range want {
		if !seen[id] {
			t.Fatalf("event %s lost in the migration", id)
		}
	}
	for _, stmt := range []string{"UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"} {
		if _, err := d.writer.ExecContext(ctx, stmt); err == nil {
			t.Errorf("%s succeeded after the migration", stmt)
		}
	}
}

// Migration 6 moves the record counter from triggers into CreateRecord and
// DeleteRecord; undoing it must bring the triggers back with a true count.
func TestRecordCountMigrationUndoes(t *testing.T) {
	ctx := context.Background()
	conn, _ := openAt(t, 5)
	conn.SetMaxOpenConns(1)
	insert := func(id string) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, `INSERT INTO medical_records (id, user_id, patient_name, date_of_birth, date_of_treatment, doctor, created, updated)
			VALUES (?, 'u', 'P', '1990-01-01', '2030-01-01', 'D', 0, 0)`, id); err != nil {
			t.Fatal(err)
		}
	}
	counter := func() (n int) {
		t.Helper()
		if err := conn.QueryRowContext(ctx, "SELECT n FROM medical_record_count").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		t.Fatal(err)
	}
	insert("a")
	if n := counter(); n != 1 {
		t.Fatalf("version 5: counter %d after an insert, want 1 (the trigger counts)", n)
	}
	p := migrations(t, conn)
	if _, err := p.UpTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	insert("b")
	if n := counter(); n != 1 {
		t.Fatalf("version 6: counter %d after a raw insert, want 1 (no trigger)", n)
	}
	if _, err := p.DownTo(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if n := counter(); n != 2 {
		t.Fatalf("back at version 5: counter %d, want the true count 2", n)
	}
	insert("c")
	if n := counter(); n != 3 {
		t.Fatalf("back at version 5: counter %d after an insert, want 3", n)
	}
}

// Migration 7 replaces the record counter with the counts table, which also
// counts audit events by action; both directions must start from true
// counts, whatever the old counter said.
func TestCountsMigration(t *testing.T) {
	ctx := context.Background()
	conn, _ := openAt(t, 6)
	conn.SetMaxOpenConns(1)
	exec := func(stmt string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, stmt, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec("PRAGMA foreign_keys = OFF")
	for _, id := range []string{"a", "b"} {
		exec(`INSERT INTO medical_records (id, user_id, patient_name, date_of_birth, date_of_treatment, doctor, created, updated)
			VALUES (?, 'u', 'P', '1990-01-01', '2030-01-01', 'D', 0, 0)`, id)
	}
	for i, action := range []string{"record.read", "record.read", "auth.login"} {
		exec(`INSERT INTO audit_events (id, at, action, entity, ip) VALUES (?, ?, ?, 'user', 'cli')`, uuid.NewString(), i, action)
	}
	p := migrations(t, conn)
	if _, err := p.UpTo(ctx, 7); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	rows, err := conn.QueryContext(ctx, "SELECT name || '/' || part, n FROM counts")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var key string
		var n int
		if err := rows.Scan(&key, &n); err != nil {
			t.Fatal(err)
		}
		got[key] = n
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"medical_records/": 2, "audit_events/record.read": 2, "audit_events/auth.login": 1}
	if !maps.Equal(got, want) {
		t.Fatalf("counts after migrating up: %v, want %v", got, want)
	}
	exec(`INSERT INTO medical_records (id, user_id, patient_name, date_of_birth, date_of_treatment, doctor, created, updated)
		VALUES ('c', 'u', 'P', '1990-01-01', '2030-01-01', 'D', 0, 0)`)
	if _, err := p.DownTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT n FROM medical_record_count").Scan(&n); err != nil || n != 3 {
		t.Fatalf("back at version 6: counter %d, %v; want the true count 3", n, err)
	}
}

// Migration 9 adds the refresh grace columns to existing tokens (empty: no
// grace for tokens rotated before it), and going back keeps the tokens.
func TestRefreshGraceMigrationKeepsTokens(t *testing.T) {
	ctx := context.Background()
	conn, exec := openAtWithUser(t, 8)
	exec(`INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created, expires_at, used_at) VALUES ('t', 'u', 'f', x'01', 0, 9999999999999, 5)`)
	p := migrations(t, conn)
	if _, err := p.UpTo(ctx, 9); err != nil {
		t.Fatal(err)
	}
	tok, err := (&queries{q: conn}).RefreshTokenByHash(ctx, []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	if tok.UsedAt == nil || tok.RotatedBy != nil || tok.ChildID != "" || tok.GraceUsedAt != nil {
		t.Fatalf("migrated token %+v, want used and without grace data", tok)
	}
	if _, err := p.DownTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM refresh_tokens").Scan(&n); err != nil || n != 1 {
		t.Fatalf("back at version 8: %d tokens, %v", n, err)
	}
}

// Migration 10 folds the patient names and doctors of existing records
// into the keys the ordering and the doctor filter now use, in batches
// (more records than one batch here), and going back keeps the records.
func TestFoldKeysMigrationFillsExistingRecords(t *testing.T) {
	ctx := context.Background()
	conn, _ := openAtWithUser(t, 9)
	n := foldKeyBatch + 5
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		doctor := "Dr. Who"
		if i%1000 == 7 {
			doctor = "DR. ÖZ"
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO medical_records (id, user_id, patient_name, date_of_birth, date_of_treatment, doctor, created, updated)
			VALUES (?, 'u', ?, '1990-01-01', '2030-01-01', ?, ?, ?)`, fmt.Sprintf("r%06d", i), fmt.Sprintf("Élodie %06d", i), doctor, i, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	p := migrations(t, conn)
	// Up to the latest: the queries below read the columns later
	// migrations add (migration 11's version, 1 on every existing row).
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	var unfolded int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM medical_records WHERE patient_name_key = '' OR doctor_key = ''`).Scan(&unfolded); err != nil || unfolded != 0 {
		t.Fatalf("%d records without keys after migrating, %v", unfolded, err)
	}
	var key string
	if err := conn.QueryRowContext(ctx, `SELECT patient_name_key FROM medical_records WHERE id = 'r010004'`).Scan(&key); err != nil || key != "élodie 010004" {
		t.Fatalf("the last batch's key is %q, %v; want élodie 010004", key, err)
	}
	rs, total, err := (&queries{q: conn}).ListRecords(ctx, db.RecordFilter{Doctor: "dr. öz", Limit: 100})
	if err != nil || total != 10 || len(rs) != 10 {
		t.Fatalf("doctor dr. öz: %d of %d, %v; want 10", len(rs), total, err)
	}
	for _, r := range rs {
		if r.Version != 1 {
			t.Fatalf("record %s at version %d after migrating, want 1", r.ID, r.Version)
		}
	}
	if _, err := p.DownTo(ctx, 9); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM medical_records").Scan(&left); err != nil || left != n {
		t.Fatalf("back at version 9: %d records, %v; want %d", left, err, n)
	}
}
