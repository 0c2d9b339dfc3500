package walbuffer_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anavara/anavara/db/sqlite/walbuffer"
)

// openDB opens path in WAL mode with synchronous=FULL as one connection,
// through the buffering VFS when buffered is set. extra is appended to the
// URI's query.
func openDB(t testing.TB, path string, buffered bool, extra string) *sql.DB {
	t.Helper()
	if err := walbuffer.Register(); err != nil {
		t.Fatal(err)
	}
	dsn := "file:" + path + "?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=10000" + extra
	if buffered {
		dsn += "&vfs=" + walbuffer.Name
	}
	d, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	d.SetMaxOpenConns(1)
	t.Cleanup(func() { d.Close() })
	return d
}

func exec1(t testing.TB, d *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := d.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// body is row i's content: n bytes that differ for every i.
func body(i, n int) []byte {
	seed := sha256.Sum256([]byte(strconv.Itoa(i)))
	return bytes.Repeat(seed[:], n/len(seed)+1)[:n]
}

// checkIntegrity runs SQLite's full consistency check on a fresh
// connection that does not use the buffering VFS.
func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	d := openDB(t, path, false, "")
	var result string
	if err := d.QueryRow("PRAGMA integrity_check").Scan(&result); err != nil {
		t.Fatal(err)
	}
	if result != "ok" {
		t.Fatalf("integrity_check: %s", result)
	}
}

// checkRows fails unless table t holds exactly rows 1..n, each with the
// content body(i, size) (or body(i+offset, size) when rewritten).
func checkRows(t *testing.T, d *sql.DB, n, size, offset int) {
	t.Helper()
	rows, err := d.Query("SELECT id, body FROM t ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := 1
	for rows.Next() {
		var id int
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			t.Fatal(err)
		}
		if id != want {
			t.Fatalf("row %d, want %d", id, want)
		}
		if !bytes.Equal(b, body(id+offset, size)) {
			t.Fatalf("row %d has the wrong content", id)
		}
		want++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want-1 != n {
		t.Fatalf("%d rows, want %d", want-1, n)
	}
}

func TestRegisterIsIdempotent(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() { errs <- walbuffer.Register() })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A transaction bigger than the page cache writes frames before it
// commits, reads them back and rewrites them; a rolled-back one leaves
// frames that the next transaction overwrites. Every byte must still land
// where SQLite put it.
func TestTransactionsLargerThanTheCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spill.db")
	// 20 pages of cache, against a transaction of about 700.
	d := openDB(t, path, true, "&_cache_size=20")
	exec1(t, d, "CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
	exec1(t, d, "CREATE INDEX t_body ON t (body)")
	const rows, size = 2000, 1000

	tx, err := d.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= rows; i++ {
		if _, err := tx.Exec("INSERT INTO t (id, body) VALUES (?, ?)", i, body(i, size)); err != nil {
			t.Fatal(err)
		}
	}
	// Rewrites every page written so far, most of them already spilled.
	if _, err := tx.Exec("UPDATE t SET body = body"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= rows; i++ {
		if _, err := tx.Exec("UPDATE t SET body = ? WHERE id = ?", body(i+rows, size), i); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	checkRows(t, openDB(t, path, false, ""), rows, size, rows)

	// A spilled transaction that rolls back changes nothing...
	tx, err = d.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("DELETE FROM t"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= rows; i++ {
		if _, err := tx.Exec("INSERT INTO t (id, body) VALUES (?, ?)", i, body(-i, size)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	checkRows(t, openDB(t, path, false, ""), rows, size, rows)

	// ...and the next commit, written over its frames, reads back intact.
	exec1(t, d, "UPDATE t SET body = ? WHERE id = 1", body(1, size))
	exec1(t, d, "UPDATE t SET body = ? WHERE id = 1", body(1+rows, size))
	checkRows(t, openDB(t, path, false, ""), rows, size, rows)
	checkRows(t, d, rows, size, rows)
	d.Close()
	checkIntegrity(t, path)
}

// Readers on other connections (and a checkpointer) must only ever see
// whole commits while the buffered writer works.
func TestReadersSeeOnlyWholeCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "readers.db")
	w := openDB(t, path, true, "")
	exec1(t, w, "CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
	exec1(t, w, "CREATE TABLE n (k INTEGER PRIMARY KEY, commits INTEGER NOT NULL)")
	exec1(t, w, "INSERT INTO n VALUES (1, 0)")
	const commits, size = 400, 3000

	var done atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 3 {
		r := openDB(t, path, false, "")
		wg.Go(func() {
			last := 0
			for !done.Load() {
				var n, count int
				var digest []byte
				err := r.QueryRow("SELECT (SELECT commits FROM n), count(*), (SELECT body FROM t ORDER BY id DESC LIMIT 1) FROM t").Scan(&n, &count, &digest)
				if err != nil {
					errs <- err
					return
				}
				if n != count || n < last || (n > 0 && !bytes.Equal(digest, body(n, size))) {
					errs <- fmt.Errorf("read %d commits, %d rows (last read %d commits)", n, count, last)
					return
				}
				last = n
			}
		})
	}
	ckpt := openDB(t, path, false, "")
	wg.Go(func() {
		for !done.Load() {
			if _, err := ckpt.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
				errs <- err
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
	for i := 1; i <= commits; i++ {
		tx, err := w.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("INSERT INTO t (id, body) VALUES (?, ?)", i, body(i, size)); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("UPDATE n SET commits = commits + 1"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	done.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkRows(t, openDB(t, path, false, ""), commits, size, 0)
	w.Close()
	checkIntegrity(t, path)
}

// crashChildEnv names the database a child process of
// TestKilledWriterLosesNoAcknowledgedCommit writes to.
const crashChildEnv = "WALBUFFER_CRASH_DB"

const crashRowSize = 5000

// A writer killed at an arbitrary moment must lose nothing it acknowledged:
// the child prints each row's id after its commit returns, and the parent
// kills it with SIGKILL mid-stream, three times over the same database.
func TestKilledWriterLosesNoAcknowledgedCommit(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(t, path)
		return
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	acked := 0
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriterLosesNoAcknowledgedCommit$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
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
		for seen < 150+50*round && lines.Scan() {
			id, err := strconv.Atoi(lines.Text())
			if err != nil {
				t.Fatalf("child said %q", lines.Text())
			}
			acked = id
			seen++
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		// Commits the child acknowledged between the last line read and the
		// kill are still in the pipe; they count as acknowledged too.
		for lines.Scan() {
			id, err := strconv.Atoi(lines.Text())
			if err != nil {
				t.Fatalf("child said %q", lines.Text())
			}
			acked = id
		}
		cmd.Wait()
		if seen == 0 {
			t.Fatal("the child acknowledged no commit")
		}

		checkIntegrity(t, path)
		d := openDB(t, path, false, "")
		var n int
		if err := d.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil {
			t.Fatal(err)
		}
		// The commit in flight when the child died may or may not have
		// landed; every acknowledged one must have.
		if n < acked || n > acked+1 {
			t.Fatalf("round %d: %d rows after %d acknowledged commits", round, n, acked)
		}
		checkRows(t, d, n, crashRowSize, 0)
		d.Close()
		acked = n
	}
}

func crashChild(t *testing.T, path string) {
	d := openDB(t, path, true, "")
	exec1(t, d, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
	exec1(t, d, "CREATE INDEX IF NOT EXISTS t_body ON t (body)")
	var n int
	if err := d.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	for i := n + 1; ; i++ {
		if _, err := d.Exec("INSERT INTO t (id, body) VALUES (?, ?)", i, body(i, crashRowSize)); err != nil {
			t.Fatal(err)
		}
		fmt.Println(i)
	}
}
