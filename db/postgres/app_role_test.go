package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/dbtest"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
	"github.com/anavara/anavara/model"
)

// The tests here run Anavara as a role that owns nothing, with only the
// privileges postgres.AppRole.Grants gives it (the README's "Running on
// PostgreSQL"): the test role of ANAVARA_TEST_DATABASE owns the tables, as
// the owner role does in production, and a role made for the test is the
// application's. Making that role takes CREATEROLE; without it they skip.

// appRoleSetupTimeout bounds making or dropping the test's role.
const appRoleSetupTimeout = time.Minute

// newAppRole creates a login role with a random name and password, which
// owns nothing and may do nothing yet, and drops it when t ends: after the
// databases of t and of its subtests, which hold its privileges, are
// dropped, so register it before making them. It skips t without
// ANAVARA_TEST_DATABASE, and when its role may not create roles.
func newAppRole(t *testing.T) (name, password string) {
	t.Helper()
	raw := os.Getenv(pgtest.EnvVar)
	if raw == "" {
		t.Skip(pgtest.SkipMessage)
	}
	ctx, cancel := context.WithTimeout(context.Background(), appRoleSetupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, raw)
	if err != nil {
		t.Fatalf("connect to %s: %v", postgres.Redact(raw), err)
	}
	defer conn.Close(context.Background())
	name, password = "anavara_app_test_"+randomHex(6), randomHex(16)
	// Both are hex: nothing to quote.
	_, err = conn.Exec(ctx, "CREATE ROLE "+name+" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '"+password+"'")
	if code(err) == "42501" {
		var user string
		_ = conn.QueryRow(ctx, "SELECT current_user").Scan(&user)
		t.Skipf("running Anavara as a role that owns nothing needs a second role, and %s's role may not create one: "+
			"give it CREATEROLE (as a superuser: ALTER ROLE %s CREATEROLE) to run this test", pgtest.EnvVar, user)
	}
	if err != nil {
		t.Fatalf("create role: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), appRoleSetupTimeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, raw)
		if err != nil {
			t.Errorf("drop role %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP ROLE IF EXISTS "+name); err != nil {
			t.Errorf("drop role %s: %v", name, err)
		}
	})
	return name, password
}

// asRole is databaseURL with role's name and password instead of its own.
func asRole(t *testing.T, databaseURL, role, password string) string {
	t.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, password)
	return u.String()
}

// grantApp runs, as the owner of the database at ownerURL, what the README
// has the operator run: no one but the roles it names may connect (PUBLIC
// may by default), then AppRole.Grants for role. It returns the owner's
// name and the database's.
func grantApp(t *testing.T, ownerURL, role string) (owner, database string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		t.Fatalf("connect as the owner: %v", err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, "SELECT current_user, current_database()").Scan(&owner, &database); err != nil {
		t.Fatal(err)
	}
	grants := postgres.AppRole{Database: database, Owner: owner, Role: role}.Grants()
	if _, err := conn.Exec(ctx, "REVOKE ALL ON DATABASE "+pgx.Identifier{database}.Sanitize()+" FROM PUBLIC;\n"+grants); err != nil {
		t.Fatalf("grants:\n%s\n%v", grants, err)
	}
	return owner, database
}

// openAs opens the database at url, migrations and all, as Anavara does,
// and closes it when t ends.
func openAs(t *testing.T, url string, opts postgres.Options) *postgres.Store {
	t.Helper()
	opts.URL = url
	s, err := postgres.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// code is err's SQLSTATE, or "" when it is not a PostgreSQL error.
func code(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// wantPrivileges is what the application role may do on each table of the
// schema, and nothing else: a table missing here is one that a migration
// added without adding it to the grants (app_role.go).
var wantPrivileges = map[string]string{
	"users":              "SELECT INSERT UPDATE DELETE",
	"medical_records":    "SELECT INSERT UPDATE DELETE",
	"refresh_tokens":     "SELECT INSERT UPDATE DELETE",
	"otp_codes":          "SELECT INSERT UPDATE DELETE",
	"ssh_keys":           "SELECT INSERT UPDATE DELETE",
	"counts":             "SELECT INSERT UPDATE DELETE",
	"health_heartbeat":   "SELECT INSERT UPDATE DELETE",
	"rate_limit_key":     "SELECT INSERT UPDATE DELETE",
	"rate_limits":        "SELECT INSERT UPDATE DELETE",
	"rate_limit_backoff": "SELECT INSERT UPDATE DELETE",
	"reset_requests":     "SELECT INSERT UPDATE DELETE",
	"idempotency_keys":   "SELECT INSERT UPDATE DELETE",
	"api_tokens":         "SELECT INSERT UPDATE DELETE",
	"search_word_counts": "SELECT INSERT UPDATE DELETE",
	"audit_events":       "SELECT INSERT",
	"goose_db_version":   "SELECT",
}

// checkPrivileges fails t unless role has exactly wantPrivileges on the
// tables of the schema public, CONNECT and no more on the database, and
// USAGE and no more on the schema.
func checkPrivileges(t *testing.T, ownerURL, role, database string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT c.relname, concat_ws(' ',
			CASE WHEN has_table_privilege($1, c.oid, 'SELECT') THEN 'SELECT' END,
			CASE WHEN has_table_privilege($1, c.oid, 'INSERT') THEN 'INSERT' END,
			CASE WHEN has_table_privilege($1, c.oid, 'UPDATE') THEN 'UPDATE' END,
			CASE WHEN has_table_privilege($1, c.oid, 'DELETE') THEN 'DELETE' END,
			CASE WHEN has_table_privilege($1, c.oid, 'TRUNCATE') THEN 'TRUNCATE' END,
			CASE WHEN has_table_privilege($1, c.oid, 'REFERENCES') THEN 'REFERENCES' END,
			CASE WHEN has_table_privilege($1, c.oid, 'TRIGGER') THEN 'TRIGGER' END)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`, role)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var table, privileges string
		if err := rows.Scan(&table, &privileges); err != nil {
			t.Fatal(err)
		}
		got[table] = privileges
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for table, privileges := range got {
		want, ok := wantPrivileges[table]
		switch {
		case !ok:
			t.Errorf("table %s: the application role has %q; add the table to appRoleTables (app_role.go), or grant it as it needs, and to wantPrivileges", table, privileges)
		case privileges != want:
			t.Errorf("table %s: the application role has %q, want %q", table, privileges, want)
		}
	}
	for table := range wantPrivileges {
		if _, ok := got[table]; !ok {
			t.Errorf("table %s is not in the schema", table)
		}
	}
	var connect, createDB, temp, usage, createSchema bool
	if err := conn.QueryRow(ctx, `SELECT has_database_privilege($1, $2, 'CONNECT'), has_database_privilege($1, $2, 'CREATE'),
			has_database_privilege($1, $2, 'TEMPORARY'), has_schema_privilege($1, 'public', 'USAGE'), has_schema_privilege($1, 'public', 'CREATE')`,
		role, database).Scan(&connect, &createDB, &temp, &usage, &createSchema); err != nil {
		t.Fatal(err)
	}
	if !connect || createDB || temp || !usage || createSchema {
		t.Errorf("database: CONNECT %v, CREATE %v, TEMPORARY %v; schema public: USAGE %v, CREATE %v; want true, false, false; true, false",
			connect, createDB, temp, usage, createSchema)
	}
}

// TestAppRole runs the store as a role with only the documented grants:
// Open (migrations, a no-op; the counters' check), a write and a read of
// every kind, the health check's heartbeat; and checks that the role can
// neither change nor remove audit events, even with the triggers gone, nor
// alter, drop or create a table.
func TestAppRole(t *testing.T) {
	role, password := newAppRole(t)
	ownerURL := pgtest.URL(t)
	appURL := asRole(t, ownerURL, role, password)
	ctx := context.Background()

	_, database := grantApp(t, ownerURL, role)
	checkPrivileges(t, ownerURL, role, database)

	// Open migrates: up to date, it takes goose's lock, reads the version
	// table, applies nothing, and checks the counters.
	s := openAs(t, appURL, postgres.Options{HealthInterval: time.Millisecond})
	if v, err := s.Version(ctx); err != nil || v != postgres.LatestVersion() {
		t.Fatalf("Version = %d, %v; want %d", v, err, postgres.LatestVersion())
	}

	// A write and a read of every kind the server makes.
	staff := createUser(t, s, "ada@example.org")
	patient := createUser(t, s, "bob@example.org")
	staff.IsStaff, staff.Updated = true, base.Add(time.Second)
	record := model.MedicalRecord{ID: uuid.NewString(), UserID: patient.ID, PatientName: "Bob Stone",
		DateOfBirth: model.NewDate(1980, 1, 2), Diagnosis: "flu", Treatment: "rest",
		DateOfTreatment: model.NewDate(2030, 1, 15), Doctor: "Dr. Osei", Created: base, Updated: base}
	family := uuid.NewString()
	token := db.RefreshToken{ID: uuid.NewString(), UserID: patient.ID, FamilyID: family, Hash: []byte(randomHex(32)),
		Created: base, ExpiresAt: base.Add(time.Hour)}
	child := db.RefreshToken{ID: uuid.NewString(), UserID: patient.ID, FamilyID: family, Hash: []byte(randomHex(32)),
		Created: base.Add(time.Minute), ExpiresAt: base.Add(time.Hour)}
	expired := db.RefreshToken{ID: uuid.NewString(), UserID: patient.ID, FamilyID: uuid.NewString(), Hash: []byte(randomHex(32)),
		Created: base.Add(-2 * time.Hour), ExpiresAt: base.Add(-time.Hour)}
	otp := db.OTPCode{ID: uuid.NewString(), UserID: patient.ID, Hash: []byte(randomHex(32)), Created: base, ExpiresAt: base.Add(5 * time.Minute)}
	key := db.SSHKeyRow{SSHKey: model.SSHKey{ID: uuid.NewString(), Name: "laptop", Type: "ssh-ed25519",
		Fingerprint: "SHA256:" + randomHex(20), Created: base}, UserID: patient.ID, PublicKey: "ssh-ed25519 AAAA" + randomHex(20)}
	audit := func(action, entityID string) model.AuditEvent {
		return model.AuditEvent{ID: uuid.NewString(), At: time.Now().UTC().Truncate(time.Microsecond), ActorID: &staff.ID,
			Action: action, Entity: "medical_record", EntityID: &entityID, IP: "192.0.2.1"}
	}
	write(t, s, func(ctx context.Context, tx db.Tx) error {
		if _, err := tx.UserByID(ctx, staff.ID); err != nil { // SELECT … FOR UPDATE
			return err
		}
		if err := tx.UpdateUser(ctx, staff.User); err != nil {
			return err
		}
		if err := tx.SetPassword(ctx, patient.ID, "new-hash", base.Add(time.Second)); err != nil {
			return err
		}
		if err := tx.InvalidateAccessTokens(ctx, patient.ID); err != nil {
			return err
		}
		if err := tx.CreateRecord(ctx, record); err != nil {
			return err
		}
		return tx.InsertAudit(ctx, audit(model.ActionRecordCreate, record.ID))
	})
	record.Diagnosis, record.Updated = "influenza", base.Add(time.Minute)
	write(t, s, func(ctx context.Context, tx db.Tx) error {
		if _, err := tx.RecordByID(ctx, record.ID); err != nil {
			return err
		}
		if err := tx.UpdateRecord(ctx, record); err != nil {
			return err
		}
		// Inside a transaction, a list's total flushes the pending counts.
		if _, total, err := tx.ListAudit(ctx, db.AuditFilter{Limit: 10}); err != nil || total != 1 {
			return errors.Join(err, errors.New("ListAudit in a transaction: want a total of 1"))
		}
		return tx.InsertAudit(ctx, audit(model.ActionRecordUpdate, record.ID))
	})
	write(t, s, func(ctx context.Context, tx db.Tx) error {
		for _, rt := range []db.RefreshToken{token, child, expired} {
			if err := tx.CreateRefreshToken(ctx, rt); err != nil {
				return err
			}
		}
		if _, err := tx.RefreshTokenByHash(ctx, token.Hash); err != nil {
			return err
		}
		if err := tx.MarkRefreshTokenUsed(ctx, token.ID, base.Add(time.Minute), []byte("fingerprint"), child.ID); err != nil {
			return err
		}
		if err := tx.UseRefreshGrace(ctx, token.ID, base.Add(time.Minute+time.Second)); err != nil {
			return err
		}
		if _, err := tx.RefreshTokenByID(ctx, child.ID); err != nil {
			return err
		}
		if err := tx.RevokeRefreshToken(ctx, child.ID, base.Add(2*time.Minute)); err != nil {
			return err
		}
		if err := tx.RevokeRefreshFamily(ctx, family, base.Add(2*time.Minute)); err != nil {
			return err
		}
		if err := tx.RevokeUserRefreshTokens(ctx, patient.ID, base.Add(2*time.Minute)); err != nil {
			return err
		}
		if n, err := tx.DeleteExpiredRefreshTokens(ctx, base); err != nil || n != 1 {
			return errors.Join(err, errors.New("DeleteExpiredRefreshTokens: want 1"))
		}
		return nil
	})
	write(t, s, func(ctx context.Context, tx db.Tx) error {
		if err := tx.CreateOTP(ctx, otp); err != nil {
			return err
		}
		active, err := tx.ActiveOTP(ctx, patient.ID, base.Add(time.Second), 5)
		if err != nil {
			return err
		}
		if err := tx.CountOTPAttempt(ctx, active.ID); err != nil {
			return err
		}
		return tx.UseOTP(ctx, active.ID, base.Add(2*time.Second))
	})
	write(t, s, func(ctx context.Context, tx db.Tx) error {
		if err := tx.CreateSSHKey(ctx, key); err != nil {
			return err
		}
		if _, err := tx.SSHKeyByFingerprint(ctx, key.Fingerprint); err != nil {
			return err
		}
		return tx.TouchSSHKey(ctx, key.ID, base.Add(time.Minute))
	})
	r := s.Read()
	if users, total, err := r.ListUsers(ctx, db.UserFilter{Search: "example", Limit: 10}); err != nil || total != 2 || len(users) != 2 {
		t.Fatalf("ListUsers = %d users, total %d, %v; want 2, 2", len(users), total, err)
	}
	if records, total, err := r.ListRecords(ctx, db.RecordFilter{Search: "INFLU", Limit: 10}); err != nil || total != 1 || len(records) != 1 {
		t.Fatalf("ListRecords(search) = %d records, total %d, %v; want 1, 1", len(records), total, err)
	}
	if keys, err := r.SSHKeysOf(ctx, patient.ID); err != nil || len(keys) != 1 || keys[0].LastUsed == nil {
		t.Fatalf("SSHKeysOf = %+v, %v; want the key, used", keys, err)
	}
	write(t, s, func(ctx context.Context, tx db.Tx) error {
		if err := tx.DeleteSSHKey(ctx, patient.ID, key.ID); err != nil {
			return err
		}
		if err := tx.DeleteRecord(ctx, record.ID); err != nil {
			return err
		}
		return tx.InsertAudit(ctx, audit(model.ActionRecordDelete, record.ID))
	})
	if _, total, err := r.ListAudit(ctx, db.AuditFilter{Limit: 10}); err != nil || total != 3 {
		t.Fatalf("ListAudit = total %d, %v; want 3", total, err)
	}
	if _, total, err := r.ListRecords(ctx, db.RecordFilter{Limit: 10}); err != nil || total != 0 {
		t.Fatalf("ListRecords = total %d, %v; want 0", total, err)
	}
	// With no write in the interval, the check writes its heartbeat.
	time.Sleep(5 * time.Millisecond)
	if h := s.Health(); h.Cause != db.Healthy {
		t.Fatalf("Health = %v (%v)", h.Cause, h.Err)
	}

	// Opened again with rows in the tables: the counters' check reads them
	// all, and finds them right.
	openAs(t, appURL, postgres.Options{}).Close()

	app, err := pgx.Connect(ctx, appURL)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)
	refused := func(what string, stmts ...string) {
		t.Helper()
		for _, stmt := range stmts {
			if _, err := app.Exec(ctx, stmt); code(err) != "42501" {
				t.Errorf("%s: %s as the application role: %v, want a permission error (42501)", what, stmt, err)
			}
		}
	}
	tamper := []string{
		`UPDATE audit_events SET ip = '203.0.113.9'`,
		`DELETE FROM audit_events`,
		`TRUNCATE audit_events`,
	}
	refused("the triggers in place", tamper...)
	refused("owner's rights",
		`ALTER TABLE audit_events DISABLE TRIGGER USER`,
		`DROP TRIGGER audit_events_no_delete ON audit_events`,
		`DROP TABLE users`,
		`ALTER TABLE users ADD COLUMN note text`,
		`CREATE TABLE notes (id int)`,
		`UPDATE goose_db_version SET is_applied = false`,
		`DELETE FROM goose_db_version`,
	)

	ownerConn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer ownerConn.Close(ctx)
	exec := func(stmt string) {
		t.Helper()
		if _, err := ownerConn.Exec(ctx, stmt); err != nil {
			t.Fatalf("as the owner: %s: %v", stmt, err)
		}
	}
	// Privileges, not the triggers, stop the application role: with the
	// triggers off (the owner can), it still cannot touch the trail.
	exec(`ALTER TABLE audit_events DISABLE TRIGGER USER`)
	refused("the triggers disabled", tamper...)
	exec(`ALTER TABLE audit_events ENABLE TRIGGER USER`)
	var events int
	if err := app.QueryRow(ctx, `SELECT count(*) FROM audit_events`).Scan(&events); err != nil || events != 3 {
		t.Fatalf("audit events after the attempts: %d, %v; want 3", events, err)
	}

	// Counters that drifted (an operator's change in psql) are recounted
	// by the application role's own Open: the recount locks only the
	// counts table, which it may write.
	exec(`UPDATE counts SET n = n + 5 WHERE name = 'medical_records'`)
	again := openAs(t, appURL, postgres.Options{})
	if _, total, err := again.Read().ListRecords(ctx, db.RecordFilter{Limit: 10}); err != nil || total != 0 {
		t.Fatalf("ListRecords after the recount = total %d, %v; want 0", total, err)
	}

	// A later migration, run by the owner, creates a table and a sequence:
	// the default privileges grant them to the application role.
	exec(`CREATE TABLE later_notes (id bigserial PRIMARY KEY, note text NOT NULL)`)
	for _, stmt := range []string{
		`INSERT INTO later_notes (note) VALUES ('a')`,
		`SELECT count(*) FROM later_notes`,
		`UPDATE later_notes SET note = 'b'`,
		`DELETE FROM later_notes`,
	} {
		if _, err := app.Exec(ctx, stmt); err != nil {
			t.Errorf("a table a later migration made: %s as the application role: %v", stmt, err)
		}
	}
}

// TestAppRoleCannotMigrate: the application role cannot apply a migration
// (it may create nothing), so a server as that role refuses to start on a
// database the owner has not migrated yet, leaving it as it was.
func TestAppRoleCannotMigrate(t *testing.T) {
	role, password := newAppRole(t)
	emptyURL := pgtest.EmptyURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, emptyURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var database string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&database); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "GRANT CONNECT ON DATABASE "+pgx.Identifier{database}.Sanitize()+" TO "+role+"; GRANT USAGE ON SCHEMA public TO "+role); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, postgres.Options{URL: asRole(t, emptyURL, role, password)})
	if err == nil {
		s.Close()
		t.Fatal("Open as the application role migrated an empty database")
	}
	if code(err) != "42501" || strings.Contains(err.Error(), password) {
		t.Fatalf("Open as the application role on an empty database: %v; want a permission error (42501), without the password", err)
	}
	var tables int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("tables after the refused Open: %d, %v; want 0", tables, err)
	}
}

// TestAppRoleConformance runs the whole storage conformance suite as the
// application role, each subtest on a fresh database granted as the README
// says.
func TestAppRoleConformance(t *testing.T) {
	role, password := newAppRole(t)
	dbtest.Run(t, func(t *testing.T) db.Store {
		ownerURL := pgtest.URL(t)
		grantApp(t, ownerURL, role)
		return openAs(t, asRole(t, ownerURL, role, password), postgres.Options{})
	})
}

// TestAppRoleGrantsInREADME: the README shows the grants Grants makes, for
// the names it uses.
func TestAppRoleGrantsInREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	grants := postgres.AppRole{Database: "anavara", Owner: "anavara_owner", Role: "anavara_app"}.Grants()
	if !strings.Contains(string(readme), grants) {
		t.Fatalf("README.md does not show the grants postgres.AppRole.Grants makes; it should hold:\n%s", grants)
	}
}

func TestAppRoleGrantsQuote(t *testing.T) {
	grants := postgres.AppRole{Database: "Anavara Prod", Owner: "owner", Role: "user"}.Grants()
	for _, want := range []string{`ON DATABASE "Anavara Prod" TO "user";`, `FOR ROLE owner IN SCHEMA public`} {
		if !strings.Contains(grants, want) {
			t.Errorf("grants lack %s:\n%s", want, grants)
		}
	}
}

// TestAppRoleUpgradeKeepsAuditAppendOnly upgrades a database whose
// application role was granted at migration 5, before reads were audited:
// the default privileges would give the role every right on a table a later
// migration creates, so the upgrade must leave exactly what a fresh install
// grants, the trail append-only.
func TestAppRoleUpgradeKeepsAuditAppendOnly(t *testing.T) {
	role, _ := newAppRole(t)
	ctx := context.Background()
	ownerURL := pgtest.EmptyURL(t)
	conn, err := sql.Open("pgx", ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, conn, postgres.Migrations(), goose.WithGoMigrations(postgres.GoMigrations()...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 5); err != nil {
		t.Fatal(err)
	}
	var owner, database string
	if err := conn.QueryRowContext(ctx, "SELECT current_user, current_database()").Scan(&owner, &database); err != nil {
		t.Fatal(err)
	}
	// The grants of that release: the tables later migrations created
	// (idempotency_keys, api_tokens, search_word_counts) were not in its
	// list; the default privileges cover them.
	grants := postgres.AppRole{Database: database, Owner: owner, Role: role}.Grants()
	grants = strings.Replace(grants, ", idempotency_keys", "", 1)
	grants = strings.Replace(grants, ", api_tokens", "", 1)
	grants = strings.Replace(grants, ", search_word_counts", "", 1)
	if _, err := conn.ExecContext(ctx, "REVOKE ALL ON DATABASE "+pgx.Identifier{database}.Sanitize()+" FROM PUBLIC;\n"+grants); err != nil {
		t.Fatalf("grant: %v", err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	checkPrivileges(t, ownerURL, role, database)
}
