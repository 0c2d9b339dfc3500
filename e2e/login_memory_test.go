package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// peakRSS is the most resident memory pid has had, in bytes (VmHWM).
func peakRSS(t testing.TB, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("cannot read the server's memory: %v", err)
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(data)
	if m == nil {
		t.Skip("no VmHWM in /proc/<pid>/status")
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb * 1024
}

// concurrentUnknownLogins sends n logins at once, each for a different
// unknown email (so no per-address-and-email limit applies), and returns
// how many got each status, and the server's peak RSS afterwards.
func concurrentUnknownLogins(t testing.TB, bin string, n int, extra ...string) (map[int]int, int64) {
	t.Helper()
	dir := t.TempDir()
	url := startServer(t, bin, filepath.Join(dir, "data"), append([]string{"--ssh", ""}, extra...)...)
	pid := serverPID(t, strings.TrimPrefix(url, "http://"))
	statuses := make(map[int]int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			body := fmt.Sprintf(`{"email":"nobody-%d@example.org","password":"Wrong-guess-123"}`, i)
			res, err := httpClient.Post(url+"/api/auth/login", "application/json", strings.NewReader(body))
			status := 0
			if err == nil {
				status = res.StatusCode
				res.Body.Close()
			}
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return statuses, peakRSS(t, pid)
}

// TestConcurrentLoginsBoundMemory is the regression for unbounded password
// hashing: 128 concurrent logins for 128 unknown emails took 2.4 GiB when
// each ran its own 19 MiB argon2id hash at once. With hashing bounded to
// the default (one per CPU) the peak stays under 250 MiB, and every login
// is answered: 401, or 503 for those that waited past --hash-wait.
func TestConcurrentLoginsBoundMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a server: skipped with -short")
	}
	bin := buildBinary(t, t.TempDir())
	statuses, peak := concurrentUnknownLogins(t, bin, 128)
	t.Logf("128 concurrent logins: statuses %v, peak RSS %.0f MiB", statuses, float64(peak)/(1<<20))
	if statuses[http.StatusUnauthorized]+statuses[http.StatusServiceUnavailable] != 128 {
		t.Fatalf("statuses %v: want every login answered 401 or 503", statuses)
	}
	if statuses[http.StatusUnauthorized] == 0 {
		t.Fatalf("statuses %v: no login was served at all", statuses)
	}
	if limit := int64(250 << 20); peak > limit {
		t.Fatalf("peak RSS %d MiB after 128 concurrent logins, want under 250 MiB", peak>>20)
	}
}

// BenchmarkConcurrentLoginsPeakRSS reports the server's peak resident
// memory after N concurrent logins for unknown emails, with hashing
// bounded (the default) and, for comparison, with one slot per request
// (the behaviour before the bound). One iteration per server; run with
// -benchtime=1x.
func BenchmarkConcurrentLoginsPeakRSS(b *testing.B) {
	bin := buildBinary(b, b.TempDir())
	for _, mode := range []struct {
		name  string
		extra func(n int) []string
	}{
		{"bounded", func(int) []string { return nil }},
		{"unbounded", func(n int) []string { return []string{"--hash-concurrency", strconv.Itoa(n)} }},
	} {
		for _, n := range []int{8, 32, 64, 128} {
			b.Run(fmt.Sprintf("%s/N=%d", mode.name, n), func(b *testing.B) {
				var peak int64
				var statuses map[int]int
				for range b.N {
					statuses, peak = concurrentUnknownLogins(b, bin, n, mode.extra(n)...)
				}
				b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
				b.ReportMetric(float64(statuses[http.StatusServiceUnavailable]), "503s")
			})
		}
	}
}
