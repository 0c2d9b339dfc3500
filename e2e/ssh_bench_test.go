package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// sshBench is a real `anavara serve` with one patient whose key is
// registered, for the SSH benchmarks.
type sshBench struct {
	addr    string
	metrics string
	pid     int
	signer  gossh.Signer
}

func newSSHBench(b *testing.B) *sshBench {
	b.Helper()
	dir := b.TempDir()
	bin := buildBinary(b, dir)
	sshAddr, metricsAddr := freeAddr(b), freeAddr(b)
	url := startServer(b, bin, filepath.Join(dir, "data"), "--ssh", sshAddr, "--ssh-connections-per-minute", "100000",
		"--log-format", "json", "--metrics", metricsAddr)
	var auth struct {
		AccessToken string `json:"access_token"`
	}
	if status := post(b, url+"/api/auth/signup", "", map[string]string{"first_name": "Bea", "last_name": "Bench",
		"email": "bench@example.org", "password": password}, &auth); status != http.StatusCreated {
		b.Fatalf("signup: %d", status)
	}
	keyPath := filepath.Join(dir, "id_ed25519")
	line := writeKeyPair(b, keyPath)
	if status := post(b, url+"/api/users/me/ssh-keys", auth.AccessToken, map[string]string{"public_key": line}, nil); status != http.StatusCreated {
		b.Fatalf("add key: %d", status)
	}
	treated := time.Now().UTC().AddDate(0, 0, 10).Format("2006-01-02")
	if status := post(b, url+"/api/medical-records", auth.AccessToken, map[string]string{"patient_name": "Bea Bench",
		"date_of_birth": "1980-01-01", "date_of_treatment": treated, "doctor": "Dr. Bench"}, nil); status != http.StatusCreated {
		b.Fatalf("create record: %d", status)
	}
	pem, err := os.ReadFile(keyPath)
	if err != nil {
		b.Fatal(err)
	}
	signer, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		b.Fatal(err)
	}
	return &sshBench{addr: sshAddr, metrics: "http://" + metricsAddr + "/metrics", pid: serverPID(b, sshAddr), signer: signer}
}

// serverPID finds the process listening on addr through /proc/net/tcp.
func serverPID(b testing.TB, addr string) int {
	b.Helper()
	entries, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, e := range entries {
		data, err := os.ReadFile(e)
		if err == nil && bytes.Contains(data, []byte("serve")) && bytes.Contains(data, []byte(addr)) {
			pid, _ := strconv.Atoi(strings.Split(e, "/")[2])
			return pid
		}
	}
	b.Skip("cannot find the server process in /proc")
	return 0
}

// rss is the resident memory of pid in bytes.
func rss(b *testing.B, pid int) int64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(data)
	if m == nil {
		b.Fatal("no VmRSS")
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb * 1024
}

// goMemory is the server's Go heap and stack in use, from its /metrics.
func (sb *sshBench) goMemory(b *testing.B) float64 {
	b.Helper()
	res, err := httpClient.Get(sb.metrics)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	total := 0.0
	for _, name := range []string{"go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes"} {
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(buf.Bytes())
		if m == nil {
			b.Fatalf("metrics lack %s", name)
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		total += v
	}
	return total
}

// session is an interactive SSH session whose output is watched.
type session struct {
	conn *gossh.Client
	sess *gossh.Session
	mu   sync.Mutex
	out  bytes.Buffer
	seen chan struct{}
}

func (s *session) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out.Write(p)
	select {
	case s.seen <- struct{}{}:
	default:
	}
	return len(p), nil
}

// connect opens an SSH session with a 100×30 PTY and waits until the
// screen shows want.
func (sb *sshBench) connect(b *testing.B, want string) *session {
	b.Helper()
	conn, err := gossh.Dial("tcp", sb.addr, &gossh.ClientConfig{User: "bench", Auth: []gossh.AuthMethod{gossh.PublicKeys(sb.signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	sess, err := conn.NewSession()
	if err != nil {
		b.Fatal(err)
	}
	s := &session{conn: conn, sess: sess, seen: make(chan struct{}, 1)}
	sess.Stdout, sess.Stderr = s, s
	if err := sess.RequestPty("xterm-256color", 30, 100, gossh.TerminalModes{}); err != nil {
		b.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		b.Fatal(err)
	}
	deadline := time.After(20 * time.Second)
	for {
		s.mu.Lock()
		ok := bytes.Contains(s.out.Bytes(), []byte(want))
		s.mu.Unlock()
		if ok {
			return s
		}
		select {
		case <-s.seen:
		case <-deadline:
			b.Fatalf("screen never showed %q", want)
		}
	}
}

func (s *session) close() { s.sess.Close(); s.conn.Close() }

// BenchmarkSSHConnectToRecords measures a registered key's time from TCP
// connect to the first frame showing its records, on loopback, and reports
// the percentiles.
func BenchmarkSSHConnectToRecords(b *testing.B) {
	sb := newSSHBench(b)
	sb.connect(b, "Dr. Bench").close() // warm up
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		s := sb.connect(b, "Dr. Bench")
		times = append(times, time.Since(start))
		s.close()
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(times[len(times)*9/10].Microseconds())/1000, "p90-ms")
}

// BenchmarkSSHIdleSessionMemory opens 100 sessions that sit on the records
// screen and reports the server's resident memory added per session. Run it
// with -benchtime=1x.
func BenchmarkSSHIdleSessionMemory(b *testing.B) {
	sb := newSSHBench(b)
	first := sb.connect(b, "Dr. Bench")
	defer first.close()
	time.Sleep(500 * time.Millisecond)
	base, baseGo := rss(b, sb.pid), sb.goMemory(b)
	const n = 100
	sessions := make([]*session, 0, n)
	b.ResetTimer()
	for i := 0; i < n; i++ {
		sessions = append(sessions, sb.connect(b, "Dr. Bench"))
	}
	b.StopTimer()
	time.Sleep(time.Second)
	after, afterGo := rss(b, sb.pid), sb.goMemory(b)
	for _, s := range sessions {
		s.close()
	}
	b.ReportMetric(float64(after-base)/n/(1<<20), "MiB-rss/session")
	b.ReportMetric((afterGo-baseGo)/n/(1<<20), "MiB-go/session")
	b.ReportMetric(float64(after)/(1<<20), "MiB-rss-total")
}
