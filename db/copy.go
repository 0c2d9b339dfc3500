package db

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/anavara/anavara/model"
)

// Copying a whole database from one engine to another (anavara db copy):
// the source streams every row from one snapshot (Exporter) into the
// target, which loads them in one transaction (Importer). Rows travel in
// batches of at most ExportBatch, so a copy's memory stays bounded whatever
// the size of the database, and in this package's row types, which every
// engine already reads and writes, so no engine needs to know another.

// Table names a copied table.
type Table string

// The copied tables. The counts table is not among them: the target
// recounts its counters from the rows it loaded (ImportTx.Recount), so a
// copy cannot carry a drifted counter over. Nor are health_heartbeat (each
// engine's own health probe), goose_db_version (the target's migrations
// write their own) and idempotency_keys (a day's protection of retries,
// which the target starts without). The reset-code outbox (reset_requests) is copied: a
// request answered but not yet mailed is mailed by the target's server.
const (
	TableUsers          Table = "users"
	TableMedicalRecords Table = "medical_records"
	TableRefreshTokens  Table = "refresh_tokens"
	TableOTPCodes       Table = "otp_codes"
	TableSSHKeys        Table = "ssh_keys"
	TableAPITokens      Table = "api_tokens"
	TableAuditEvents    Table = "audit_events"
	TableResetRequests  Table = "reset_requests"
)

// CopyTables lists the copied tables in the order Export delivers them:
// users first, since every other table but the audit trail refers to them
// by a foreign key that an importer checks row by row.
var CopyTables = []Table{TableUsers, TableMedicalRecords, TableRefreshTokens, TableOTPCodes, TableSSHKeys, TableAPITokens, TableAuditEvents, TableResetRequests}

// ExportBatch is the most rows Export hands a RowSink in one call: large
// enough that a PostgreSQL importer's COPY or a SQLite importer's statement
// loop pays its per-call cost rarely, small enough (a few hundred
// kilobytes of records) that memory does not grow with the database.
const ExportBatch = 1000

// RowSink receives a copy's rows, table by table in CopyTables order and
// each table in batches of 1 to ExportBatch rows. The slice passed is
// reused once the call returns: a sink that keeps rows must copy them.
type RowSink interface {
	// Users receives users, with their password hashes and token versions.
	Users(ctx context.Context, rows []UserRow) error
	// MedicalRecords receives records.
	MedicalRecords(ctx context.Context, rows []model.MedicalRecord) error
	// RefreshTokens receives refresh tokens, every column of their
	// families' rotation and revocation state included.
	RefreshTokens(ctx context.Context, rows []RefreshToken) error
	// OTPCodes receives password-reset codes, used or not.
	OTPCodes(ctx context.Context, rows []OTPCode) error
	// SSHKeys receives linked SSH keys.
	SSHKeys(ctx context.Context, rows []SSHKeyRow) error
	// APITokens receives API tokens, revoked ones (which audit events
	// name) included, with their hashes and last use.
	APITokens(ctx context.Context, rows []APITokenRow) error
	// AuditEvents receives the audit trail.
	AuditEvents(ctx context.Context, rows []model.AuditEvent) error
	// ResetRequests receives the password-reset requests waiting in the
	// outbox, with their attempts and leases.
	ResetRequests(ctx context.Context, rows []ResetRequest) error
}

// ExportSink is what Export streams into: a RowSink that learns the
// source's tally before the first row, so that it can report progress
// against the totals and verify the copy against them at the end.
type ExportSink interface {
	// Start is called once, before any row, with the tally of the snapshot
	// the rows come from.
	Start(ctx context.Context, source Tally) error
	RowSink
}

// Exporter is a store that can stream every row, in an order that
// satisfies foreign keys (users first), from one snapshot.
type Exporter interface {
	// Export reads one consistent snapshot of the database — writers carry
	// on meanwhile and nothing they commit after it began is seen — and
	// hands sink its tally, then every row of every table in CopyTables.
	// It stops at, and returns, the first error sink returns.
	Export(ctx context.Context, sink ExportSink) error
	// LatestVersion is the schema version this build's migrations bring
	// the engine's databases to. Export reads the latest schema, so a
	// source must be at this version: versions count each engine's own
	// migrations and are comparable only within an engine.
	LatestVersion() int64
}

// Importer is a store that can load rows in one transaction.
type Importer interface {
	// Import runs load in one write transaction, committing when load
	// returns nil and rolling back otherwise, so a failed copy leaves the
	// target as it was. When any copied table of the target already has
	// rows it returns a *NotEmptyError without calling load: a copy never
	// merges into, or overwrites, an existing database. Unlike
	// Store.Write, Import never runs load twice.
	Import(ctx context.Context, load func(ImportTx) error) error
}

// ImportTx loads rows in Import's transaction.
type ImportTx interface {
	// RowSink inserts every row as given, id, timestamps and every column
	// kept; columns an engine derives from others (search text, folded
	// sort keys) are derived as its writes derive them. It moves no
	// counter: Recount sets them once, from the rows.
	RowSink
	// Recount sets the counters (the counts table) from the rows in the
	// transaction, as opening a database recounts them.
	Recount(ctx context.Context) error
	// Tally counts the rows and reads the counters as the transaction
	// sees them.
	Tally(ctx context.Context) (Tally, error)
}

// Tally is what a copy verifies: how many rows each table holds, the
// counters the database keeps, and the counters as its rows say they
// should be.
type Tally struct {
	// Rows is count(*) of every table in CopyTables.
	Rows map[Table]int64
	// Counters is the counts table as stored, in CleanCounters' form.
	Counters []Counter
	// TrueCounters is what Counters should be, counted from the rows:
	// count(*) of medical_records, and the audit events grouped by
	// action. Also in CleanCounters' form.
	TrueCounters []Counter
}

// Counter is one row of the counts table: the total an unfiltered list
// reports, without counting its table.
type Counter struct {
	// Name is the counted table, Part "" for the whole table or, for the
	// audit trail, one action.
	Name, Part string
	N          int64
}

// CleanCounters sorts counters by name then part and drops those at zero,
// the form Tally holds them in: a counter at zero and a missing one mean
// the same (nothing counted), and engines differ in which they keep.
func CleanCounters(counters []Counter) []Counter {
	out := slices.DeleteFunc(slices.Clone(counters), func(c Counter) bool { return c.N == 0 })
	slices.SortFunc(out, func(a, b Counter) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Part, b.Part)) })
	return out
}

// VerifyCopy checks a copy's target against its source: the same number
// of rows in every table, and counters that agree with the target's own
// rows and with the source's counters. The error names every difference.
func VerifyCopy(source, target Tally) error {
	var diffs []string
	for _, t := range CopyTables {
		if source.Rows[t] != target.Rows[t] {
			diffs = append(diffs, fmt.Sprintf("%s: %d rows in the source, %d in the target", t, source.Rows[t], target.Rows[t]))
		}
	}
	if d := counterDiff(target.TrueCounters, target.Counters); d != "" {
		diffs = append(diffs, "the target's counters disagree with its rows: "+d)
	}
	if d := counterDiff(source.Counters, target.Counters); d != "" {
		diffs = append(diffs, "the target's counters differ from the source's: "+d)
	}
	if len(diffs) == 0 {
		return nil
	}
	return fmt.Errorf("copy does not match its source: %s", strings.Join(diffs, "; "))
}

// counterDiff describes how counters b differ from a, both in
// CleanCounters' form, or returns "" when they are equal.
func counterDiff(a, b []Counter) string {
	key := func(c Counter) string {
		if c.Part == "" {
			return c.Name
		}
		return c.Name + "/" + c.Part
	}
	want := map[string]int64{}
	for _, c := range a {
		want[key(c)] = c.N
	}
	var diffs []string
	for _, c := range b {
		if n, ok := want[key(c)]; !ok || n != c.N {
			diffs = append(diffs, fmt.Sprintf("%s %d, not %d", key(c), c.N, n))
		}
		delete(want, key(c))
	}
	for _, c := range a {
		if n, ok := want[key(c)]; ok {
			diffs = append(diffs, fmt.Sprintf("%s 0, not %d", key(c), n))
		}
	}
	return strings.Join(diffs, ", ")
}

// NotEmptyError is Import's refusal of a target that already holds rows.
type NotEmptyError struct {
	// Rows counts the rows the target holds, per table.
	Rows map[Table]int64
}

func (e *NotEmptyError) Error() string {
	var held []string
	for _, t := range CopyTables {
		if n := e.Rows[t]; n > 0 {
			held = append(held, fmt.Sprintf("%d %s", n, t))
		}
	}
	return "the target database is not empty (" + strings.Join(held, ", ") +
		"): a copy only fills an empty database, so point --to at a new one"
}
