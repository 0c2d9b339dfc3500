package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/cli"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/mail"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/password"
	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/server"
)

// liveServer is a real API server on a real listener over dataDir/anavara.db.
type liveServer struct {
	base  string
	store db.Store
}

// startLiveServer runs server.New on db.Open in-process, listening on a
// loopback port, with rate limits and password costs suited to a test that
// signs up many accounts.
func startLiveServer(t *testing.T, dataDir string) *liveServer {
	t.Helper()
	store, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(dataDir, "anavara.db")})
	if err != nil {
		t.Fatal(err)
	}
	limits := auth.DefaultLimits
	limits.SignupPerIP = ratelimit.Rule{Limit: 1_000_000, Window: time.Hour}
	srv, err := server.New(server.Config{
		JWTSecret:      bytes.Repeat([]byte("s"), 32),
		Limits:         limits,
		PasswordParams: password.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32},
	}, store, mail.NewCapture())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-served
		if err := store.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &liveServer{base: "http://" + ln.Addr().String(), store: store}
}

// call sends a JSON request and decodes a JSON answer into out.
func call(client *http.Client, method, url, token string, body, out any) (int, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, err
	}
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			return res.StatusCode, fmt.Errorf("decode %s: %w", raw, err)
		}
	}
	return res.StatusCode, nil
}

// ack is a record the API answered 201 for, and when.
type ack struct {
	id, userID string
	at         time.Time
}

// TestBackupWhileWriting backs up the database of a live server while
// writers sign up accounts and create records over HTTP without pause, then
// checks that the backup is sound and holds a consistent prefix: every
// record acknowledged before the backup began, each with its owner and its
// audit event, and nothing torn.
func TestBackupWhileWriting(t *testing.T) {
	dataDir := t.TempDir()
	live := startLiveServer(t, dataDir)
	client := &http.Client{Timeout: 20 * time.Second}
	treated := time.Now().UTC().AddDate(0, 0, 30).Format("2006-01-02")

	var (
		mu    sync.Mutex
		acked []ack
		errs  []error
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	const writers = 4
	for w := range writers {
		wg.Go(func() {
			deadline := time.Now().Add(60 * time.Second) // bounded even if stop never comes
			for i := 0; time.Now().Before(deadline); i++ {
				select {
				case <-stop:
					return
				default:
				}
				// A new account every few records, so users are written
				// throughout the backup too.
				var auth model.AuthResponse
				email := fmt.Sprintf("w%d-%d@example.org", w, i)
				status, err := call(client, http.MethodPost, live.base+"/api/auth/signup", "",
					map[string]any{"first_name": "W", "last_name": "Riter", "email": email, "password": "Vq7!plum-Orbit-42"}, &auth)
				if err != nil || status != http.StatusCreated {
					mu.Lock()
					errs = append(errs, fmt.Errorf("signup %s: %d %v", email, status, err))
					mu.Unlock()
					return
				}
				for range 5 {
					var rec model.MedicalRecord
					status, err := call(client, http.MethodPost, live.base+"/api/medical-records", auth.AccessToken, map[string]any{
						"patient_name": "Pat Ient", "date_of_birth": "1990-04-01", "date_of_treatment": treated,
						"doctor": "Dr. Osei", "diagnosis": "Checked during a backup", "treatment": "Rest",
					}, &rec)
					if err != nil || status != http.StatusCreated {
						mu.Lock()
						errs = append(errs, fmt.Errorf("create record: %d %v", status, err))
						mu.Unlock()
						return
					}
					mu.Lock()
					acked = append(acked, ack{id: rec.ID, userID: auth.User.ID, at: time.Now()})
					mu.Unlock()
				}
			}
		})
	}
	stopWriters := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopWriters()

	// Let the writers get going.
	waitUntil(t, 30*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 40 || len(errs) > 0 })

	out := filepath.Join(t.TempDir(), "anavara-backup.db")
	began := time.Now()
	var stdout, stderr bytes.Buffer
	code := cli.Execute(context.Background(), []string{"backup", "--data-dir", dataDir, "--out", out},
		cli.Streams{In: strings.NewReader(""), Out: &stdout, Err: &stderr})
	finished := time.Now()
	if code != 0 {
		t.Fatalf("backup exited %d: %s", code, stderr.String())
	}
	info, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("written to %s (%d bytes)", out, info.Size()); !strings.Contains(stdout.String(), want) {
		t.Errorf("backup printed %q, want it to contain %q", stdout.String(), want)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600: it holds medical records", info.Mode().Perm())
	}
	// Writes go on after the backup.
	mu.Lock()
	afterBackup := len(acked)
	mu.Unlock()
	waitUntil(t, 30*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= afterBackup+20 || len(errs) > 0 })
	stopWriters()
	mu.Lock()
	defer mu.Unlock()
	if len(errs) > 0 {
		t.Fatalf("writers failed while the backup ran: %v", errs)
	}

	// The backup is a sound database of its own.
	if _, err := sqlite.Inspect(context.Background(), out); err != nil {
		t.Fatalf("inspect backup: %v", err)
	}
	conn, err := sql.Open("sqlite3", "file:"+out+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var integrity string
	if err := conn.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check = %q, %v", integrity, err)
	}
	inBackup := map[string]bool{}
	rows, err := conn.Query("SELECT id FROM medical_records")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		inBackup[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if len(inBackup) == 0 {
		t.Fatal("the backup holds no records")
	}
	var orphans, unaudited int
	if err := conn.QueryRow(`SELECT count(*) FROM medical_records r LEFT JOIN users u ON u.id = r.user_id WHERE u.id IS NULL`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(`SELECT count(*) FROM medical_records r WHERE NOT EXISTS
		(SELECT 1 FROM audit_events a WHERE a.entity_id = r.id AND a.action = ?)`, model.ActionRecordCreate).Scan(&unaudited); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 || unaudited != 0 {
		t.Fatalf("backup is torn: %d records without their user, %d without their audit event", orphans, unaudited)
	}
	// A prefix: everything acknowledged before the backup began is in it;
	// and the server kept writing: records acknowledged after it finished
	// exist that the backup cannot hold all of.
	var before, after, afterInBackup int
	for _, a := range acked {
		switch {
		case a.at.Before(began):
			before++
			if !inBackup[a.id] {
				t.Errorf("record %s, acknowledged before the backup began, is missing from it", a.id)
			}
		case a.at.After(finished):
			after++
			if inBackup[a.id] {
				afterInBackup++
			}
		}
	}
	if after == 0 || afterInBackup == after {
		t.Errorf("%d records were acknowledged after the backup, %d of them in it: the backup is not a snapshot", after, afterInBackup)
	}
	if len(inBackup) > len(acked)+writers {
		t.Errorf("the backup holds %d records, more than the %d acknowledged plus %d in flight", len(inBackup), len(acked), writers)
	}
	t.Logf("%d records acknowledged before the backup, %d in it, %d after it; backup took %v",
		before, len(inBackup), after, finished.Sub(began).Round(time.Millisecond))
}

// waitUntil polls cond until it holds, failing the test after limit.
func waitUntil(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRestoreRefusesWhileTheServerRuns checks that restore will not replace
// a database some connection has open, and works once it is closed.
func TestRestoreRefusesWhileTheServerRuns(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("seeing this process's own SQLite connections needs Linux open-file-description locks")
	}
	dataDir := t.TempDir()
	backup := filepath.Join(t.TempDir(), "b.db")
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := cli.Execute(context.Background(), args, cli.Streams{In: strings.NewReader(""), Out: &stdout, Err: &stderr})
		return code, stdout.String(), stderr.String()
	}
	store, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(dataDir, "anavara.db")})
	if err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run("backup", "--data-dir", dataDir, "--out", backup); code != 0 {
		store.Close()
		t.Fatalf("backup: %s", stderr)
	}
	code, _, stderr := run("restore", "--data-dir", dataDir, "--from", backup)
	if code == 0 || !strings.Contains(stderr, "is in use (is anavara serve running?)") {
		store.Close()
		t.Fatalf("restore while the database is open: exit %d, stderr %q; want a refusal", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "anavara.db.bak")); err == nil {
		t.Error("a refused restore still moved the database aside")
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := run("restore", "--data-dir", dataDir, "--from", backup); code != 0 || !strings.Contains(stdout, "restored") {
		t.Fatalf("restore after the server stopped: exit %d, %q %q", code, stdout, stderr)
	}
}

// TestRestoreSetsAsideTheOldWriteAheadLog checks that a write-ahead log
// left by the replaced database (a server that crashed) travels with it to
// anavara.db.bak instead of being replayed into the restored database.
func TestRestoreSetsAsideTheOldWriteAheadLog(t *testing.T) {
	dataDir := t.TempDir()
	target := filepath.Join(dataDir, "anavara.db")
	ctx := context.Background()
	store, err := sqlite.Open(ctx, sqlite.Options{Path: target})
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "b.db")
	if err := store.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	store.Close()

	// Leave a database with unflushed writes in its log, as a crash would.
	crashDir := t.TempDir()
	crashed := filepath.Join(crashDir, "anavara.db")
	conn, err := sql.Open("sqlite3", "file:"+crashed+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	conn.SetMaxOpenConns(1)
	for _, s := range []string{"PRAGMA wal_autocheckpoint = 0", "CREATE TABLE marker (x)", "INSERT INTO marker VALUES (1)"} {
		if _, err := conn.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	// Copy the main file and its log while the connection is open, so the
	// log is not checkpointed away.
	for _, suffix := range []string{"", "-wal"} {
		data, err := os.ReadFile(crashed + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target+suffix, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()

	var stdout, stderr bytes.Buffer
	if code := cli.Execute(ctx, []string{"restore", "--data-dir", dataDir, "--from", backup},
		cli.Streams{In: strings.NewReader(""), Out: &stdout, Err: &stderr}); code != 0 {
		t.Fatalf("restore: %s", stderr.String())
	}
	if _, err := os.Stat(target + "-wal"); err == nil {
		t.Fatal("the old write-ahead log is still beside the restored database")
	}
	if _, err := os.Stat(target + ".bak-wal"); err != nil {
		t.Fatalf("the old write-ahead log was not kept with anavara.db.bak: %v", err)
	}
	// The restored database is the backup; the kept one has its log.
	if _, err := sqlite.Inspect(ctx, target); err != nil {
		t.Fatalf("restored database: %v", err)
	}
	old, err := sql.Open("sqlite3", "file:"+target+".bak")
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	var n int
	if err := old.QueryRow("SELECT count(*) FROM marker").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the kept database lost the writes in its log: %d, %v", n, err)
	}
}
