package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/model"
)

// groupCrashEnv names the database a child process of
// TestKilledGroupCommitLosesNoAcknowledgedWrite writes to.
const groupCrashEnv = "ANAVARA_GROUP_COMMIT_CRASH_DB"

// groupCrashWriters is how many goroutines of the child write at once.
const groupCrashWriters = 32

// Batched commits must keep today's promise under a kill -9: the child
// runs 32 goroutines, each creating a record and its audit event in one
// Write, then appending the event of a list that served it (AppendAudits,
// as an audited read does), and printing the record's id once both have
// returned; the parent kills it with SIGKILL mid-stream, three times over
// the same database, while the child's audit indexer runs. Every
// acknowledged record must be there, and no write half-applied: each
// record has its audit event and each event its record, and the counters
// match the rows; and "who saw the record" finds both its events, once
// each, before and after the indexer catches up.
func TestKilledGroupCommitLosesNoAcknowledgedWrite(t *testing.T) {
	if path := os.Getenv(groupCrashEnv); path != "" {
		groupCrashChild(t, path)
		return
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	acked := make(map[string]bool)
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledGroupCommitLosesNoAcknowledgedWrite$")
		cmd.Env = append(os.Environ(), groupCrashEnv+"="+path)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		seen := 0
		for seen < 300+100*round && lines.Scan() {
			acked[lines.Text()] = true
			seen++
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		// Writes the child acknowledged between the last line read and the
		// kill are still in the pipe; they count as acknowledged too.
		for lines.Scan() {
			acked[lines.Text()] = true
		}
		cmd.Wait()
		if seen == 0 {
			t.Fatal("the child acknowledged no write")
		}
		checkGroupCrash(t, path, acked, round)
		checkCrashLookups(t, path, acked, round)
	}
}

// checkCrashLookups opens the killed child's database as the server does
// (its indexer off, so that the test decides when it runs) and asks who
// saw each acknowledged record: its create and the list that served it,
// whatever the killed indexer had reached, and again once it has reached
// the head.
func checkCrashLookups(t *testing.T, path string, acked map[string]bool, round int) {
	t.Helper()
	ctx := context.Background()
	conn, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	var through, head int64
	err = conn.QueryRow(`SELECT (SELECT seq FROM audit_index_through), (SELECT max(seq) FROM audit_events)`).Scan(&through, &head)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("round %d: the killed indexer reached event %d of %d", round, through, head)
	d, err := sqlite.Open(ctx, sqlite.Options{Path: path, AuditIndexInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, stage := range []string{"as the kill left it", "indexed"} {
		for id := range acked {
			es, n, err := d.Read().ListAudit(ctx, db.AuditFilter{EntityID: id, Limit: 10})
			if err != nil || n != 2 || len(es) != 2 || es[0].Action == es[1].Action {
				t.Fatalf("round %d, %s: events of acknowledged record %s: %d listed, total %d, %v; want its create and its list",
					round, stage, id, len(es), n, err)
			}
		}
		if err := d.IndexAuditTrail(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// checkGroupCrash opens the killed child's database as SQLite alone finds
// it (no migration, no recount) and checks it against what was acknowledged.
func checkGroupCrash(t *testing.T, path string, acked map[string]bool, round int) {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var check string
	if err := conn.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("round %d: integrity_check %q, %v", round, check, err)
	}
	stored := make(map[string]bool)
	rows, err := conn.Query("SELECT id FROM medical_records")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		stored[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for id := range acked {
		if !stored[id] {
			t.Fatalf("round %d: acknowledged record %s is missing (%d acknowledged, %d stored)", round, id, len(acked), len(stored))
		}
	}
	var unmatched, events, counted, countedEvents int
	if err := conn.QueryRow(`SELECT
		(SELECT count(*) FROM medical_records r WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.entity_id = r.id))
		+ (SELECT count(*) FROM audit_events e WHERE e.action = ? AND NOT EXISTS (SELECT 1 FROM medical_records r WHERE r.id = e.entity_id)),
		(SELECT count(*) FROM audit_events WHERE action = ?),
		(SELECT n FROM counts WHERE name = 'medical_records'),
		(SELECT coalesce(sum(n), 0) FROM counts WHERE name = 'audit_events' AND part = ?)`,
		model.ActionRecordCreate, model.ActionRecordCreate, model.ActionRecordCreate).Scan(&unmatched, &events, &counted, &countedEvents); err != nil {
		t.Fatal(err)
	}
	if unmatched != 0 || events != len(stored) || counted != len(stored) || countedEvents != len(stored) {
		t.Fatalf("round %d: %d records, %d of their events, counted %d and %d, %d unmatched: a write was half-applied",
			round, len(stored), events, counted, countedEvents, unmatched)
	}
	t.Logf("round %d: %d acknowledged, %d stored", round, len(acked), len(stored))
}

// groupCrashChild writes until it is killed.
func groupCrashChild(t *testing.T, path string) {
	ctx := context.Background()
	d, err := sqlite.Open(ctx, sqlite.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	u := newUserRow("crash@example.org")
	err = d.Write(ctx, func(q db.Tx) error { return q.CreateUser(ctx, u) })
	if errors.Is(err, db.ErrConflict) {
		var row db.UserRow
		row, err = d.Read().UserByEmail(ctx, u.Email)
		u = row
	}
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error)
	for range groupCrashWriters {
		go func() {
			for {
				now := time.Now().UTC()
				r := model.MedicalRecord{ID: uuid.NewString(), UserID: u.ID, PatientName: "p", DateOfBirth: model.NewDate(1990, 1, 1),
					DateOfTreatment: model.NewDate(2030, 1, 1), Doctor: "d", Created: now, Updated: now}
				if err := d.Write(ctx, func(q db.Tx) error {
					if err := q.CreateRecord(ctx, r); err != nil {
						return err
					}
					return q.InsertAudit(ctx, model.AuditEvent{ID: uuid.NewString(), At: now, ActorID: &u.ID,
						Action: model.ActionRecordCreate, Entity: "medical_record", EntityID: &r.ID, IP: "127.0.0.1"})
				}); err != nil {
					errs <- err
					return
				}
				list := model.AuditEvent{ID: uuid.NewString(), At: time.Now().UTC(), ActorID: &u.ID, Action: model.ActionRecordList,
					Entity: model.EntityRecord, IP: "127.0.0.1", RecordIDs: []string{r.ID}, SubjectIDs: []string{u.ID}}
				if err := d.AppendAudits(ctx, []model.AuditEvent{list}); err != nil {
					errs <- err
					return
				}
				fmt.Println(r.ID)
			}
		}()
	}
	t.Fatal(<-errs)
}
