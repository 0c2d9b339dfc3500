package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/engines"
	"github.com/anavara/anavara/model"
)

// newDBCommand groups the commands that work on a whole database.
func newDBCommand(streams Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Work on whole databases: copy one to another engine",
		// Runnable, so that cobra checks its arguments: a mistyped
		// subcommand is an error, not a silent help text.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newDBCopyCommand(streams))
	return cmd
}

// copyFlags configure anavara db copy.
type copyFlags struct {
	from, to string
	progress time.Duration
}

func newDBCopyCommand(streams Streams) *cobra.Command {
	var f copyFlags
	cmd := &cobra.Command{
		Use:   "copy --from DATABASE --to DATABASE",
		Short: "Copy a whole Anavara database to another, e.g. from SQLite to PostgreSQL",
		Long: "Copy every row of the Anavara database --from into the empty database --to: users\n" +
			"with their password hashes, medical records, refresh tokens (whole families, used\n" +
			"and revoked ones too, so sessions carry over), password-reset codes, SSH keys,\n" +
			"the full audit trail and the password-reset requests not yet mailed (the target's\n" +
			"server mails them), each row with its id and timestamps. Both take the forms of\n" +
			"--database, and both must be given: sqlite:PATH (e.g. sqlite:./anavara-data/anavara.db)\n" +
			"or postgres://user:password@host:5432/dbname?sslmode=… (or the ANAVARA_FROM and\n" +
			"ANAVARA_TO environment variables, which keep passwords off the command line).\n\n" +
			"The source is read in one consistent snapshot, so a server may keep running on it;\n" +
			"the copy holds what was committed when the copy began. The source must be at this\n" +
			"anavara's schema version (run anavara migrate on it first); it is never changed.\n" +
			"The target is created and migrated if needed, and must hold no rows: a copy never\n" +
			"merges. Everything is written in one transaction on the target, so a copy that\n" +
			"fails or is interrupted leaves it empty. Before committing, the command checks\n" +
			"that every table has as many rows as in the source and that the counters the\n" +
			"lists report (recounted from the copied rows) equal the source's.\n\n" +
			"Progress goes to standard error, a summary per table to standard output.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, name := range []string{"from", "to"} {
				if givenOnCommandLine(cmd.Flags(), name) && databaseHasPassword(cmd.Flags().Lookup(name).Value.String()) {
					fmt.Fprintf(streams.Err, "warning: --%s holds a password on the command line, where other users of this machine can read it; set %s instead\n",
						name, EnvName(name))
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runCopy(ctx, f, streams)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.from, "from", "", "database to copy from: sqlite:PATH or postgres://… (required)")
	fs.StringVar(&f.to, "to", "", "empty database to copy into: sqlite:PATH or postgres://… (required)")
	fs.DurationVar(&f.progress, "progress", time.Second, "how often to report progress on standard error; 0 for never")
	return cmd
}

// parseCopyTarget reads the value of --from or --to (flag), which must be
// explicit: no data directory supplies a default.
func parseCopyTarget(flag, value string) (engines.Target, error) {
	if value == "" {
		return engines.Target{}, fmt.Errorf("--%s is required: sqlite:PATH (e.g. sqlite:./anavara-data/anavara.db) or postgres://user:password@host:5432/dbname", flag)
	}
	t, err := engines.Parse(value, "")
	if err != nil {
		if strings.HasPrefix(value, "sqlite:") { // sqlite: without a path
			return t, errors.New(strings.Replace(err.Error(), "--database", "--"+flag, 1))
		}
		// Not Parse's own message, which speaks of --database and of its
		// default; nor the value, which may hold a password.
		return t, fmt.Errorf("--%s: not a database this version can open: give sqlite:PATH or postgres://user:password@host:5432/dbname", flag)
	}
	return t, nil
}

// sameDatabase reports whether a and b name one database (as far as their
// text tells).
func sameDatabase(a, b engines.Target) bool {
	if a.Engine != b.Engine {
		return false
	}
	if a.Engine == engines.SQLite {
		pa, erra := filepath.Abs(a.Path)
		pb, errb := filepath.Abs(b.Path)
		return erra == nil && errb == nil && pa == pb
	}
	return a.URL == b.URL
}

// runCopy is anavara db copy.
func runCopy(ctx context.Context, f copyFlags, streams Streams) error {
	from, err := parseCopyTarget("from", f.from)
	if err != nil {
		return err
	}
	to, err := parseCopyTarget("to", f.to)
	if err != nil {
		return err
	}
	if sameDatabase(from, to) {
		return fmt.Errorf("--from and --to both name %s: copy into another database", from)
	}
	if from.Engine == engines.SQLite {
		// Opening a missing file would create an empty database.
		if _, err := os.Stat(from.Path); err != nil {
			return fmt.Errorf("no database to copy at %s: %w", from.Path, err)
		}
	}

	// The source is opened as it is: a running server, perhaps of another
	// version, owns its schema, and a copy must not change it.
	src, err := engines.Open(ctx, from, engines.Options{SkipMigrations: true})
	if err != nil {
		return fmt.Errorf("open source: %w", err)
	}
	defer src.Close()
	exporter, ok := src.(db.Exporter)
	if !ok {
		return fmt.Errorf("the %s engine cannot export a database", src.Engine())
	}
	version, err := src.Version(ctx)
	if err != nil {
		return fmt.Errorf("source %s: %w", from, err)
	}
	switch latest := exporter.LatestVersion(); {
	case version < latest:
		return fmt.Errorf("the source %s is at schema version %d, older than this anavara's %d: "+
			"bring it up to date first with anavara migrate --database <the --from database> (with its server stopped or upgraded), then copy",
			from, version, latest)
	case version > latest:
		return fmt.Errorf("the source %s is at schema version %d, newer than this anavara's %d: copy it with the anavara that serves it",
			from, version, latest)
	}

	dst, err := engines.Open(ctx, to, engines.Options{})
	if err != nil {
		return fmt.Errorf("open target: %w", err)
	}
	defer dst.Close()
	importer, ok := dst.(db.Importer)
	if !ok {
		return fmt.Errorf("the %s engine cannot import a database", dst.Engine())
	}

	start := time.Now()
	c := &copier{progress: f.progress, err: streams.Err, lastReport: start}
	err = importer.Import(ctx, func(tx db.ImportTx) error {
		c.tx = tx
		if err := exporter.Export(ctx, c); err != nil {
			return err
		}
		// What follows (the counts, the checks, SQLite merging its
		// full-text indexes, the commit) may take as long as a large
		// table's copy, with no row to report.
		if f.progress > 0 {
			fmt.Fprintln(streams.Err, "every row copied; checking the counts, finishing the indexes and committing")
		}
		// What the export delivered is what the snapshot counted.
		for _, t := range db.CopyTables {
			if c.copied[t] != c.source.Rows[t] {
				return fmt.Errorf("copy does not match its source: %s: the source counted %d rows and delivered %d", t, c.source.Rows[t], c.copied[t])
			}
		}
		if err := tx.Recount(ctx); err != nil {
			return err
		}
		got, err := tx.Tally(ctx)
		if err != nil {
			return err
		}
		if err := db.VerifyCopy(c.source, got); err != nil {
			return err
		}
		c.target = got
		return nil
	})
	var notEmpty *db.NotEmptyError
	switch {
	case errors.As(err, &notEmpty):
		return fmt.Errorf("refusing to copy into %s: %w", to, err)
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("copy interrupted; nothing was written to %s (its transaction was rolled back)", to)
	case err != nil:
		return fmt.Errorf("copy failed; nothing was written to %s (its transaction was rolled back): %w", to, err)
	}
	elapsed := time.Since(start)
	c.summary(streams.Out, from, to, elapsed)
	return nil
}

// copier is the ExportSink of a copy: it passes each batch to the target's
// ImportTx, counts what passed, and reports progress.
type copier struct {
	tx     db.ImportTx
	source db.Tally
	// target is the target's tally once verified.
	target db.Tally
	copied map[db.Table]int64

	progress   time.Duration
	err        io.Writer
	lastReport time.Time
}

// Start records the source's tally.
func (c *copier) Start(_ context.Context, source db.Tally) error {
	c.source = source
	c.copied = map[db.Table]int64{}
	return nil
}

// forward hands rows of table to load and counts them.
func forward[T any](ctx context.Context, c *copier, table db.Table, rows []T, load func(context.Context, []T) error) error {
	if err := load(ctx, rows); err != nil {
		return err
	}
	c.copied[table] += int64(len(rows))
	if c.progress > 0 {
		if now := time.Now(); now.Sub(c.lastReport) >= c.progress {
			c.lastReport = now
			fmt.Fprintf(c.err, "copied %d of %d %s\n", c.copied[table], c.source.Rows[table], table)
		}
	}
	return nil
}

// Users forwards users.
func (c *copier) Users(ctx context.Context, rows []db.UserRow) error {
	return forward(ctx, c, db.TableUsers, rows, c.tx.Users)
}

// MedicalRecords forwards records.
func (c *copier) MedicalRecords(ctx context.Context, rows []model.MedicalRecord) error {
	return forward(ctx, c, db.TableMedicalRecords, rows, c.tx.MedicalRecords)
}

// RefreshTokens forwards refresh tokens.
func (c *copier) RefreshTokens(ctx context.Context, rows []db.RefreshToken) error {
	return forward(ctx, c, db.TableRefreshTokens, rows, c.tx.RefreshTokens)
}

// OTPCodes forwards password-reset codes.
func (c *copier) OTPCodes(ctx context.Context, rows []db.OTPCode) error {
	return forward(ctx, c, db.TableOTPCodes, rows, c.tx.OTPCodes)
}

// SSHKeys forwards SSH keys.
func (c *copier) SSHKeys(ctx context.Context, rows []db.SSHKeyRow) error {
	return forward(ctx, c, db.TableSSHKeys, rows, c.tx.SSHKeys)
}

// APITokens forwards API tokens.
func (c *copier) APITokens(ctx context.Context, rows []db.APITokenRow) error {
	return forward(ctx, c, db.TableAPITokens, rows, c.tx.APITokens)
}

// AuditEvents forwards the audit trail.
func (c *copier) AuditEvents(ctx context.Context, rows []model.AuditEvent) error {
	return forward(ctx, c, db.TableAuditEvents, rows, c.tx.AuditEvents)
}

// ResetRequests forwards the password-reset requests not yet mailed.
func (c *copier) ResetRequests(ctx context.Context, rows []db.ResetRequest) error {
	return forward(ctx, c, db.TableResetRequests, rows, c.tx.ResetRequests)
}

// summary prints one line per table and the totals.
func (c *copier) summary(w io.Writer, from, to engines.Target, elapsed time.Duration) {
	var total int64
	for _, t := range db.CopyTables {
		fmt.Fprintf(w, "%-16s %9d rows copied, verified\n", t, c.copied[t])
		total += c.copied[t]
	}
	var records, audit, actions int64
	for _, k := range c.target.Counters {
		switch k.Name {
		case string(db.TableMedicalRecords):
			records += k.N
		case string(db.TableAuditEvents):
			audit, actions = audit+k.N, actions+1
		}
	}
	fmt.Fprintf(w, "%-16s recounted from the copied rows, equal to the source's: %d records, %d audit events over %d actions\n",
		"counters", records, audit, actions)
	rate := float64(total) / max(elapsed.Seconds(), 1e-3)
	fmt.Fprintf(w, "copied %d rows from %s to %s in %s (%.0f rows/s)\n", total, from, to, elapsed.Round(time.Millisecond), rate)
}
