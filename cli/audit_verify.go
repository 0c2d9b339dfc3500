package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/anavara/anavara/audit/chain"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/engines"
)

// Exit codes of anavara audit verify.
const (
	verifyBroken    = 1
	verifyCannotRun = 2
)

// auditVerifyFlags configure anavara audit verify.
type auditVerifyFlags struct {
	dataDir  string
	database string
	expect   string
}

func newAuditVerifyCommand(streams Streams) *cobra.Command {
	var f auditVerifyFlags
	cmd := &cobra.Command{
		Use:   "verify [--expect COUNT:HASH]",
		Short: "Check the audit trail's hash chain: exit 0 when whole, 1 at a broken link",
		Long: "Walk the whole audit trail in chain order, recompute every event's hash from its\n" +
			"fields and the hash before it, and print the number of events checked and either\n" +
			"\"ok\" with the head hash or the first broken link: its position (the seq the chain\n" +
			"expected), the event found there and what differs. A field edited, an event deleted,\n" +
			"inserted or moved, or one written into the database around anavara (no seq) each\n" +
			"break the chain at that event.\n\n" +
			"It reads the database directly, in one consistent snapshot, so a running server keeps\n" +
			"answering and writing meanwhile; events committed after the snapshot began are left\n" +
			"for the next run. The schema is never changed.\n\n" +
			"A trail rewritten from some event to its end, and re-hashed, holds together by\n" +
			"itself: record the head (GET /api/audit-events/head: count and head_hash) outside the\n" +
			"server now and then, and pass it as --expect COUNT:HASH, which also checks that event\n" +
			"COUNT still has that hash.\n\n" +
			"Exit status: 0 the chain holds, 1 it is broken, 2 it could not be checked (bad\n" +
			"arguments, no database, a read failed).",
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.NoArgs(cmd, args); err != nil {
				return &exitError{code: verifyCannotRun, err: err}
			}
			return nil
		},
		// Its own, so that a bad environment variable is a 2 as a bad
		// flag is; the root's would exit 1, which here means broken.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags()); err != nil {
				return &exitError{code: verifyCannotRun, err: err}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := verifyAuditTrail(cmd.Context(), f, streams); err != nil {
				var exit *exitError
				if !errors.As(err, &exit) {
					err = &exitError{code: verifyCannotRun, err: err}
				}
				return err
			}
			return nil
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: verifyCannotRun, err: err}
	})
	fs := cmd.Flags()
	fs.StringVar(&f.dataDir, "data-dir", "./anavara-data", "directory holding anavara.db")
	registerDatabaseFlag(fs, &f.database)
	fs.StringVar(&f.expect, "expect", "", "a head recorded earlier, COUNT:HASH (count and head_hash of GET /api/audit-events/head): event COUNT must still have hash HASH")
	return cmd
}

// verifyAuditTrail walks the trail of the database f names through a
// chain.Verifier and prints what it found; a broken chain is an exitError
// of verifyBroken, any other error one the chain could not be checked.
func verifyAuditTrail(ctx context.Context, f auditVerifyFlags, streams Streams) error {
	var anchor *chain.Anchor
	if f.expect != "" {
		a, err := chain.ParseAnchor(f.expect)
		if err != nil {
			return fmt.Errorf("--expect: %w", err)
		}
		anchor = &a
	}
	t, err := engines.Parse(f.database, f.dataDir)
	if err != nil {
		return err
	}
	if t.Engine == engines.SQLite {
		// Opening a missing file would create an empty database, whose
		// trail would verify.
		if _, err := os.Stat(t.Path); err != nil {
			return fmt.Errorf("no database to verify at %s: %w", t.Path, err)
		}
	}
	// Opened as it is: a running server, perhaps of another version, owns
	// its schema, and verifying must not change it.
	store, err := engines.Open(ctx, t, engines.Options{SkipMigrations: true})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := checkChainSchema(ctx, store, t); err != nil {
		return err
	}

	// A walk of events (an engine without the stored walk; both of ours
	// have one) keeps little alive (a few batches) but leaves every
	// event's strings behind: at the default goal the collector runs every few megabytes,
	// a third of the walk's CPU on a million events (BENCHMARKS.md). A
	// goal four times as high costs a few tens of megabytes; the stored
	// walk makes next to no garbage, and the goal changes nothing there.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	var r chain.Result
	err = store.Snapshot(ctx, func(s db.Snapshot) error {
		var err error
		if w, ok := s.(db.StoredAuditWalker); ok {
			r, err = chain.WalkStored(ctx, w.EachStoredAudit, anchor)
		} else {
			r, err = chain.Walk(ctx, s.EachAudit, anchor)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("read the audit trail of %s: %d %s held, the read failed at position %d: %w",
			t, r.Checked, events(r.Checked), r.Checked+1, err)
	}
	if r.Break != nil {
		fmt.Fprintf(streams.Out, "checked %d %s: BROKEN %v\n", r.Checked, events(r.Checked), r.Break)
		return &exitError{code: verifyBroken}
	}
	fmt.Fprintf(streams.Out, "checked %d %s: ok, head %x", r.Checked, events(r.Checked), r.Head)
	if anchor != nil {
		fmt.Fprintf(streams.Out, "; event %d has the expected hash", anchor.Count)
	}
	fmt.Fprintln(streams.Out)
	return nil
}

// checkChainSchema refuses a database at another schema version than
// this build's, where the trail's columns, or their meaning, may differ.
func checkChainSchema(ctx context.Context, store db.Store, t engines.Target) error {
	exporter, ok := store.(db.Exporter)
	if !ok {
		return nil
	}
	version, err := store.Version(ctx)
	if err != nil {
		return fmt.Errorf("database %s: %w", t, err)
	}
	switch latest := exporter.LatestVersion(); {
	case version < latest:
		return fmt.Errorf("the database %s is at schema version %d, older than this anavara's %d: bring it up to date with anavara migrate (or its upgraded server), then verify", t, version, latest)
	case version > latest:
		return fmt.Errorf("the database %s is at schema version %d, newer than this anavara's %d: verify it with the anavara that serves it", t, version, latest)
	}
	return nil
}

func events(n int64) string {
	if n == 1 {
		return "event"
	}
	return "events"
}
