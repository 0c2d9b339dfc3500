//go:build unix

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
)

// shutdownPassword passes the password policy.
const shutdownPassword = "Vq7!plum-Orbit-42"

// TestGracefulShutdownKeepsAcknowledgedWrites runs the real binary, sends it
// SIGTERM in the middle of a burst of concurrent record creates, and checks
// that it exits 0 and that every create it answered 201 is in the database.
func TestGracefulShutdownKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a server: skipped with -short")
	}
	dir := t.TempDir()
	bin := shutdownBuildBinary(t, dir)
	dataDir := filepath.Join(dir, "data")
	srv := shutdownStartServe(t, bin, dataDir)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()

	var auth struct {
		AccessToken string `json:"access_token"`
	}
	if status, err := shutdownPost(client, srv.url+"/api/auth/signup", "", map[string]string{
		"first_name": "Ann", "last_name": "Lee", "email": "ann@example.org", "password": shutdownPassword,
	}, &auth); err != nil || status != http.StatusCreated {
		t.Fatalf("signup: %d %v\n%s", status, err, srv.logs.String())
	}

	treated := time.Now().UTC().AddDate(0, 0, 30).Format("2006-01-02")
	var (
		mu       sync.Mutex
		acked    []string
		failures int
		other    []string
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	const workers = 8
	for w := range workers {
		wg.Go(func() {
			deadline := time.Now().Add(90 * time.Second) // bounded even if stop never comes
			for i := 0; time.Now().Before(deadline); i++ {
				select {
				case <-stop:
					return
				default:
				}
				var rec struct {
					ID string `json:"id"`
				}
				status, err := shutdownPost(client, srv.url+"/api/medical-records", auth.AccessToken, map[string]string{
					"patient_name": "Ann Lee", "date_of_birth": "1990-04-01", "date_of_treatment": treated,
					"doctor": "Dr. Osei", "diagnosis": fmt.Sprintf("burst %d/%d", w, i), "treatment": "Rest",
				}, &rec)
				mu.Lock()
				switch {
				case err != nil:
					// Refused or cut off by the shutdown: not acknowledged.
					failures++
				case status == http.StatusCreated && rec.ID != "":
					acked = append(acked, rec.ID)
				default:
					other = append(other, fmt.Sprint(status))
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(5 * time.Millisecond) // the listener is closed: do not spin
				}
			}
		})
	}
	stopWorkers := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopWorkers()

	// Mid-burst: enough creates have landed and all workers are busy.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d creates answered within 30 s\n%s", n, srv.logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// One request is in flight across the signal: its headers and half its
	// body arrive before SIGTERM, the rest once the server stopped accepting
	// connections. A graceful shutdown still answers it.
	slow := shutdownStartSlowCreate(t, srv.url, auth.AccessToken, treated)
	mu.Lock()
	atSignal := len(acked)
	mu.Unlock()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	shutdownWaitRefused(t, srv.url)
	slowID := slow.finish(t)
	select {
	case <-srv.exited:
	case <-time.After(30 * time.Second):
		_ = srv.cmd.Process.Kill()
		<-srv.exited
		t.Fatalf("anavara serve did not exit within 30 s of SIGTERM\n%s", srv.logs.String())
	}
	stopWorkers()

	if code := srv.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("anavara serve exited %d after SIGTERM, want 0\n%s", code, srv.logs.String())
	}
	if !strings.Contains(srv.logs.String(), `"msg":"stopped"`) {
		t.Errorf("the server did not log a clean stop:\n%s", srv.logs.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(other) > 0 {
		t.Errorf("creates answered neither 201 nor a transport error: %v", other)
	}
	t.Logf("%d creates answered 201 (%d before SIGTERM, %d after), %d refused or cut off", len(acked), atSignal, len(acked)-atSignal, failures)

	// Every acknowledged create survived the shutdown.
	store, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(dataDir, "anavara.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	missing := 0
	for _, id := range append(acked, slowID) {
		if _, err := store.Read().RecordByID(context.Background(), id); err != nil {
			missing++
			if missing <= 5 {
				t.Errorf("record %s was answered 201 but is not in the database: %v", id, err)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged records are missing after the shutdown", missing, len(acked))
	}
}

// shutdownSlowCreate is a record create sent in two halves.
type shutdownSlowCreate struct {
	conn net.Conn
	rest []byte
}

// shutdownStartSlowCreate opens a connection and sends the headers and the
// first half of a create's body.
func shutdownStartSlowCreate(t *testing.T, base, token, treated string) *shutdownSlowCreate {
	t.Helper()
	host := strings.TrimPrefix(base, "http://")
	body, _ := json.Marshal(map[string]string{
		"patient_name": "Ann Lee", "date_of_birth": "1990-04-01", "date_of_treatment": treated,
		"doctor": "Dr. Slow", "diagnosis": "In flight across SIGTERM", "treatment": "Patience",
	})
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	head := fmt.Sprintf("POST /api/medical-records HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", host, token, len(body))
	half := len(body) / 2
	if _, err := conn.Write(append([]byte(head), body[:half]...)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the server take it up
	return &shutdownSlowCreate{conn: conn, rest: body[half:]}
}

// finish sends the rest of the body and returns the created record's id,
// failing unless the answer is 201.
func (s *shutdownSlowCreate) finish(t *testing.T) string {
	t.Helper()
	if err := s.conn.SetDeadline(time.Now().Add(15 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.conn.Write(s.rest); err != nil {
		t.Fatalf("finish the in-flight request: %v", err)
	}
	res, err := http.ReadResponse(bufio.NewReader(s.conn), nil)
	if err != nil {
		t.Fatalf("the request in flight at SIGTERM got no answer: %v", err)
	}
	defer res.Body.Close()
	var rec struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&rec); err != nil || res.StatusCode != http.StatusCreated || rec.ID == "" {
		t.Fatalf("the request in flight at SIGTERM: %s, id %q, %v; want 201", res.Status, rec.ID, err)
	}
	return rec.ID
}

// shutdownWaitRefused waits until the server no longer accepts connections.
func shutdownWaitRefused(t *testing.T, base string) {
	t.Helper()
	host := strings.TrimPrefix(base, "http://")
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", host, time.Second)
		if err != nil {
			return
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections 10 s after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// shutdownServer is a running `anavara serve` process.
type shutdownServer struct {
	cmd    *exec.Cmd
	url    string
	logs   *testenv.LockedBuffer
	exited chan struct{} // closed once the process has been waited for
}

// shutdownStartServe starts `anavara serve` on a kernel-chosen loopback
// port without SSH, with JSON logs, and waits until /healthz answers 200.
func shutdownStartServe(t *testing.T, bin, dataDir string) *shutdownServer {
	t.Helper()
	stdout, logs := &testenv.LockedBuffer{}, &testenv.LockedBuffer{}
	cmd := exec.Command(bin, "serve", "--data-dir", dataDir, "--http", "127.0.0.1:0", "--ssh", "", "--log-format", "json")
	cmd.Stdout, cmd.Stderr = stdout, logs
	cmd.Env = append(os.Environ(), "NO_PROXY=127.0.0.1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	srv := &shutdownServer{cmd: cmd, logs: logs, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(srv.exited) }()
	t.Cleanup(func() {
		select {
		case <-srv.exited:
		default:
			_ = cmd.Process.Kill()
			<-srv.exited
		}
	})
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-srv.exited:
			t.Fatalf("anavara serve exited early:\n%s%s", stdout.String(), logs.String())
		default:
		}
		if srv.url == "" {
			for _, line := range strings.Split(stdout.String(), "\n") {
				if u, ok := strings.CutPrefix(line, "API listening on "); ok {
					srv.url = strings.TrimSpace(u)
				}
			}
		}
		if srv.url != "" {
			if res, err := client.Get(srv.url + "/healthz"); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					return srv
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("anavara serve did not answer /healthz within 30 s:\n%s%s", stdout.String(), logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shutdownBuildBinary compiles the module's main package into dir.
func shutdownBuildBinary(t *testing.T, dir string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH, so the binary cannot be built")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	gomod, err := exec.CommandContext(ctx, goBin, "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		t.Fatalf("go env GOMOD: %q %v", gomod, err)
	}
	bin := filepath.Join(dir, "anavara")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, ".")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// shutdownPost sends body as JSON and decodes a 2xx JSON answer into out.
func shutdownPost(client *http.Client, url, token string, body, out any) (int, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(data))
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
	if res.StatusCode/100 == 2 && out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			// A 201 whose body was cut off is not an acknowledgement the
			// client could act on.
			return 0, fmt.Errorf("read answer: %w", err)
		}
	}
	return res.StatusCode, nil
}
