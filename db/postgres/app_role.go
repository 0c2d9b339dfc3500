package postgres

import (
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// AppRole names the roles of a database run with two of them: Owner owns
// the tables and runs the migrations (anavara migrate, and anavara db copy
// into the database), Role is the role anavara serve connects as, which
// owns nothing.
type AppRole struct {
	// Database is the database's name.
	Database string
	// Owner is the role that owns the tables.
	Owner string
	// Role is the role anavara serve connects as.
	Role string
}

// appRoleTables are the tables anavara serve reads and writes row by row:
// every table of the schema but the audit trail, which it only appends to,
// and goose's version table, which it only reads. A migration that adds a table adds it here
// (TestAppRole fails until it does).
var appRoleTables = []string{"users", "medical_records", "refresh_tokens", "otp_codes", "ssh_keys", "counts", "health_heartbeat", "rate_limit_key", "rate_limits", "rate_limit_backoff", "reset_requests", "idempotency_keys", "api_tokens", "search_word_counts"}

// Grants returns the SQL that gives r.Role what anavara serve needs on a
// database whose schema r.Owner migrated, and nothing more: CONNECT, USAGE
// on the schema public, SELECT, INSERT, UPDATE and DELETE on the tables it
// writes, only SELECT and INSERT on audit_events (it can never change or
// remove an audit event, whatever becomes of the table's triggers), and
// only SELECT on goose_db_version (serve's Open checks the schema version
// there and finds nothing to apply). It creates no table, truncates
// nothing, and owning nothing it can neither alter, disable the audit
// triggers of, nor drop a table.
//
// Default privileges extend the same grants to the tables and sequences
// later migrations create, as long as r.Owner runs them. A migration that
// adds a table that must be append-only too revokes UPDATE and DELETE on
// it from the roles that got them that way.
//
// Run it connected to r.Database as r.Owner (or a superuser), after the
// first anavara migrate: the tables must exist. The README's section
// "Running on PostgreSQL" shows it for the names anavara, anavara_owner
// and anavara_app.
func (r AppRole) Grants() string {
	db, owner, role := quoteIdent(r.Database), quoteIdent(r.Owner), quoteIdent(r.Role)
	return "GRANT CONNECT ON DATABASE " + db + " TO " + role + ";\n" +
		"GRANT USAGE ON SCHEMA public TO " + role + ";\n" +
		"GRANT SELECT, INSERT, UPDATE, DELETE\n" +
		"    ON " + strings.Join(appRoleTables, ", ") + "\n" +
		"    TO " + role + ";\n" +
		"GRANT SELECT, INSERT ON audit_events TO " + role + ";\n" +
		"GRANT SELECT ON goose_db_version TO " + role + ";\n" +
		"ALTER DEFAULT PRIVILEGES FOR ROLE " + owner + " IN SCHEMA public\n" +
		"    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO " + role + ";\n" +
		"ALTER DEFAULT PRIVILEGES FOR ROLE " + owner + " IN SCHEMA public\n" +
		"    GRANT USAGE ON SEQUENCES TO " + role + ";\n"
}

// plainIdent is a name PostgreSQL reads as written, unless it is a keyword.
var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// reservedWords are PostgreSQL's keywords that cannot name a database or a
// role unquoted: the reserved ones, and those reserved but as a function
// or type name (SELECT word FROM pg_get_keywords() WHERE catcode IN ('R',
// 'T'), PostgreSQL 15).
var reservedWords = strings.Fields(`all analyse analyze and any array as asc asymmetric authorization binary
	both case cast check collate collation column concurrently constraint create cross current_catalog
	current_date current_role current_schema current_time current_timestamp current_user default deferrable
	desc distinct do else end except false fetch for foreign freeze from full grant group having ilike in
	initially inner intersect into is isnull join lateral leading left like limit localtime localtimestamp
	natural not notnull null offset on only or order outer overlaps placing primary references returning
	right select session_user similar some symmetric table tablesample then to trailing true union unique
	user using variadic verbose when where window with`)

// quoteIdent is name as an SQL identifier: as it is when PostgreSQL reads
// it so (lower case, no keyword), so that the usual names read as they
// are written, and double-quoted otherwise.
func quoteIdent(name string) string {
	if plainIdent.MatchString(name) && !slices.Contains(reservedWords, name) {
		return name
	}
	return pgx.Identifier{name}.Sanitize()
}
