package sqlite

import (
	"context"
	"fmt"
	"time"
)

// The full-text indexes (the records search, migration 13; the trail's
// served records, audit_index) are FTS4 tables, which keep their terms in
// segments by level. Left alone, FTS4 merges a level's 16 segments into
// one of the next level inside the commit that adds the 17th: the commit
// at the 16ⁿ-th transaction rewrites every segment below level n, which
// the first time is the whole index, while every write and audited read
// waits. With a trail of 500,000 list events that commit took 4 s, and it
// grows with the trail (BENCHMARKS.md, "Issue 14, session 10").
//
// The merger does that work in the background instead, in bounded steps
// (FTS4's incremental merge, 'merge=X,Y'), each its own write, so that
// writes interleave with them and no level reaches the 16 segments that
// make a commit merge inline. FTS4's own automerge runs such steps only
// after a transaction that added more than four leaves, which a commit of
// a few events or records never does.

// ftsTables are the FTS4 tables the merger keeps merged
// (TestFTSMergerKnowsEveryFullTextIndex checks the list against the
// schema).
var ftsTables = []string{"record_search", "audit_index"}

const (
	// ftsMergeInterval is how often the merger looks for work
	// (Options.FTSMergeInterval; startBackground).
	ftsMergeInterval = 100 * time.Millisecond
	// ftsMergeBlocks is how many blocks (of about 4 KiB) one step writes:
	// 64, FTS4's own least worth the overhead of a step (it rewrites the
	// inputs' consumed edges); about 5 ms on the benchmark's host.
	ftsMergeBlocks = 64
	// ftsMergeSegments is how many segments a level holds before a step
	// merges them: half the 16 at which FTS4 merges inline, so that the
	// merger has a level's time to fill again to catch up.
	ftsMergeSegments = 8
	// ftsMergeUrgent is the segment count past which the merger no
	// longer yields after ftsMergeShare: a level this full is a few
	// commits from an inline merge.
	ftsMergeUrgent = 12
	// ftsMergeShare bounds how long a tick's steps run before the merger
	// waits for the next tick, a fifth of the interval, unless a level is
	// urgent.
	ftsMergeShare = 20 * time.Millisecond
)

// mergeFTS runs merge steps on the full-text indexes while any has work,
// for at most ftsMergeShare unless a level is urgent, and reports whether
// a step did work.
func (d *Store) mergeFTS(ctx context.Context) (worked bool, err error) {
	start := time.Now()
	for {
		progressed, fullest := false, 0
		for _, t := range ftsTables {
			segments, pending, err := d.ftsMergeWork(ctx, t)
			if err != nil {
				return worked, err
			}
			if segments < ftsMergeSegments && !pending {
				continue
			}
			did, err := d.mergeStep(ctx, t)
			if err != nil {
				return worked, err
			}
			progressed = progressed || did
			fullest = max(fullest, segments)
		}
		worked = worked || progressed
		if !progressed || (time.Since(start) >= ftsMergeShare && fullest < ftsMergeUrgent) {
			return worked, nil
		}
	}
}

// ftsMergeWork reports, from a reader, the most segments a level of the
// FTS4 table t holds and whether an incremental merge of it is under way
// (FTS4 keeps where it stands in the row of %_stat whose id is 1).
func (d *Store) ftsMergeWork(ctx context.Context, t string) (segments int, pending bool, err error) {
	err = d.reader.QueryRowContext(ctx, `SELECT
		(SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM `+t+`_segdir GROUP BY level)),
		(SELECT coalesce(max(length(value)), 0) > 0 FROM `+t+`_stat WHERE id = 1)`).Scan(&segments, &pending)
	if err != nil {
		return 0, false, fmt.Errorf("merge %s: %w", t, err)
	}
	return segments, pending, nil
}

// mergeStep runs one incremental merge step on the FTS4 table t, a write of
// its own, and reports whether it did work: FTS4 merges the lowest level
// holding ftsMergeSegments or more, or carries on the merge under way,
// writing about ftsMergeBlocks blocks; a step with nothing to do changes
// at most one row.
func (d *Store) mergeStep(ctx context.Context, t string) (worked bool, err error) {
	err = d.write(ctx, func(q *queries) error {
		var before, after int64
		if err := q.q.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&before); err != nil {
			return err
		}
		if _, err := q.q.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %[1]s (%[1]s) VALUES ('merge=%d,%d')`, t, ftsMergeBlocks, ftsMergeSegments)); err != nil {
			return err
		}
		if err := q.q.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&after); err != nil {
			return err
		}
		worked = after-before >= 2
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("merge %s: %w", t, err)
	}
	return worked, nil
}
