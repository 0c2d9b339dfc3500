package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// BenchmarkTUIColdStart measures `anavara tui` from exec to its first
// rendered frame (the sign-in screen) against a local `anavara serve`, in a
// 100×30 pseudo-terminal, and reports the percentiles.
func BenchmarkTUIColdStart(b *testing.B) {
	dir := b.TempDir()
	bin := buildBinary(b, dir)
	url := startServer(b, bin, filepath.Join(dir, "data"), "--ssh", "")
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		b.Fatal(err)
	}
	times := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "tui", "--server", url)
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "TERM=xterm-256color")
		start := time.Now()
		f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 100, Rows: 30})
		if err != nil {
			b.Fatal(err)
		}
		var mu sync.Mutex
		var out bytes.Buffer
		seen := make(chan struct{}, 1)
		go func() {
			buf := make([]byte, 4096)
			for {
				n, err := f.Read(buf)
				// Answer the queries a terminal emulator answers (background
				// colour, cursor position), as a person's terminal would;
				// unanswered, termenv waits 5 s for them.
				if bytes.Contains(buf[:n], []byte("\x1b]11;?")) {
					f.Write([]byte("\x1b]11;rgb:1818/1818/2020\x1b\\"))
				}
				if bytes.Contains(buf[:n], []byte("\x1b[6n")) {
					f.Write([]byte("\x1b[1;1R"))
				}
				mu.Lock()
				out.Write(buf[:n])
				mu.Unlock()
				select {
				case seen <- struct{}{}:
				default:
				}
				if err != nil {
					return
				}
			}
		}()
		deadline := time.After(10 * time.Second)
		for {
			mu.Lock()
			ok := bytes.Contains(out.Bytes(), []byte("Sign in"))
			mu.Unlock()
			if ok {
				break
			}
			select {
			case <-seen:
			case <-deadline:
				b.Fatalf("no sign-in frame within 10 s: %q", out.String())
			}
		}
		times = append(times, time.Since(start))
		cmd.Process.Kill()
		cmd.Wait()
		f.Close()
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(times[len(times)*9/10].Microseconds())/1000, "p90-ms")
}
