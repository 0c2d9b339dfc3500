package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/model"
)

// The writer gathers a commit's WAL frames into one write only when every
// commit syncs (package walbuffer); with NORMAL it must leave SQLite's
// writes alone, since such a commit publishes frames it has not synced.
func TestOnlySyncingWritersBufferTheWAL(t *testing.T) {
	for _, tc := range []struct {
		synchronous string
		buffered    bool
	}{
		{"FULL", true},
		{"EXTRA", true},
		{"NORMAL", false},
	} {
		t.Run(tc.synchronous, func(t *testing.T) {
			d := open(t, sqlite.Options{Synchronous: tc.synchronous})
			u := newUser(t, d, "wal@example.org")
			ctx := context.Background()
			// The fewest writes over five commits: the background
			// checkpointer may write during one of them, never all.
			fewest := int64(-1)
			for range 5 {
				before := testenv.WriteCalls(t)
				if err := d.Write(ctx, func(q db.Tx) error {
					for range 5 {
						if err := q.CreateRecord(ctx, model.MedicalRecord{ID: uuid.NewString(), UserID: u.ID, PatientName: "p",
							DateOfBirth: model.NewDate(1990, 1, 1), DateOfTreatment: model.NewDate(2030, 1, 1), Doctor: "d",
							Created: time.Now(), Updated: time.Now()}); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if n := testenv.WriteCalls(t) - before; fewest < 0 || n < fewest {
					fewest = n
				}
			}
			if tc.buffered && fewest > 1 {
				t.Fatalf("a commit made %d writes, want 1", fewest)
			}
			if !tc.buffered && fewest < 10 {
				t.Fatalf("a commit made %d writes; SQLite's own VFS writes each frame as two", fewest)
			}
		})
	}
}
