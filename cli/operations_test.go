package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/cli"
)

// serveWith runs `anavara serve` in-process with args and returns the
// addresses it announced on stdout ("API", "SSH", "Metrics") once every
// name in want has appeared. The server stops when the test ends.
func serveWith(t *testing.T, want []string, args ...string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- cli.Execute(ctx, append([]string{"serve"}, args...), cli.Streams{In: strings.NewReader(""), Out: outW, Err: io.Discard})
		outW.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case c := <-code:
			if c != 0 {
				t.Errorf("serve exited %d", c)
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop within 20 s")
		}
	})
	listening := regexp.MustCompile(`^(\w+) listening on (\S+)$`)
	addrs := map[string]string{}
	lines := bufio.NewScanner(outR)
	for !hasAll(addrs, want) {
		if !lines.Scan() {
			t.Fatalf("serve stopped announcing before %v (got %v)", want, addrs)
		}
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			addrs[m[1]] = m[2]
		}
	}
	go io.Copy(io.Discard, outR)
	return addrs
}

func hasAll(m map[string]string, keys []string) bool {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// do sends a request and returns the status and body.
func do(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(data)
}

// TestServeExportsMetricsOnASeparateListener runs `serve --metrics` without
// SSH, makes some API calls and scrapes /metrics from its own listener.
func TestServeExportsMetricsOnASeparateListener(t *testing.T) {
	addrs := serveWith(t, []string{"API", "Metrics"},
		"--data-dir", t.TempDir(), "--http", "127.0.0.1:0", "--ssh", "", "--metrics", "127.0.0.1:0")
	api, scrapeURL := addrs["API"], addrs["Metrics"]
	if !strings.HasSuffix(scrapeURL, "/metrics") || strings.HasPrefix(scrapeURL, api) {
		t.Fatalf("metrics at %q, API at %q: want /metrics on a listener of its own", scrapeURL, api)
	}
	if _, ok := addrs["SSH"]; ok {
		t.Fatal(`--ssh "" still started the SSH front end`)
	}

	status, body := do(t, http.MethodPost, api+"/api/auth/signup", "",
		`{"first_name":"Ann","last_name":"Lee","email":"ann@example.org","password":"Vq7!plum-Orbit-42"}`)
	if status != http.StatusCreated {
		t.Fatalf("signup: %d %s", status, body)
	}
	var auth struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(body), &auth); err != nil {
		t.Fatal(err)
	}
	missing := uuid.NewString()
	for range 3 {
		if status, _ := do(t, http.MethodGet, api+"/api/medical-records/"+missing, auth.AccessToken, ""); status != http.StatusNotFound {
			t.Fatalf("GET a missing record: %d", status)
		}
	}
	if status, _ := do(t, http.MethodGet, api+"/healthz", "", ""); status != http.StatusOK {
		t.Fatalf("healthz: %d", status)
	}
	unknown := "/no/such/" + uuid.NewString()
	do(t, http.MethodGet, api+unknown, "", "")
	// The API itself does not serve metrics.
	if status, _ := do(t, http.MethodGet, api+"/metrics", "", ""); status != http.StatusNotFound {
		t.Fatalf("GET /metrics on the API listener: %d, want 404", status)
	}

	status, scrape := do(t, http.MethodGet, scrapeURL, "", "")
	if status != http.StatusOK {
		t.Fatalf("scrape: %d", status)
	}
	for _, want := range []string{
		`anavara_http_requests_total{method="POST",route="/api/auth/signup",status="201"} 1`,
		`anavara_http_requests_total{method="GET",route="/api/medical-records/:id",status="404"} 3`,
		`anavara_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`anavara_http_requests_total{method="GET",route="unmatched",status="404"} 2`,
		`anavara_http_request_duration_seconds_count{method="GET",route="/api/medical-records/:id"} 3`,
		`anavara_http_request_duration_seconds_bucket{method="POST",route="/api/auth/signup",le="+Inf"} 1`,
		`anavara_ssh_sessions_active 0`,
		`anavara_db_connections_open{pool="writer"} 1`,
		`anavara_db_connections_max_open{pool="writer"} 1`,
		`anavara_db_connections_in_use{pool="reader"}`,
		`anavara_db_connections_idle{pool="reader"}`,
		`anavara_db_wait_count_total{pool="writer"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(scrape, want) {
			t.Errorf("scrape lacks %s\n%s", want, grepLines(scrape, "anavara_http_requests_total"))
		}
	}
	if strings.Contains(scrape, missing) || strings.Contains(scrape, unknown) {
		t.Error("a raw path with an id reached the metrics: labels must be route patterns")
	}
	// Only /metrics is served there.
	if status, _ := do(t, http.MethodGet, strings.TrimSuffix(scrapeURL, "/metrics")+"/healthz", "", ""); status != http.StatusNotFound {
		t.Errorf("the metrics listener answers /healthz with %d, want 404", status)
	}
}

func TestServeWithoutMetricsFlagServesNone(t *testing.T) {
	addrs := serveWith(t, []string{"API"}, "--data-dir", t.TempDir(), "--http", "127.0.0.1:0", "--ssh", "")
	if _, ok := addrs["Metrics"]; ok {
		t.Fatal("metrics are served without --metrics")
	}
	if status, _ := do(t, http.MethodGet, addrs["API"]+"/metrics", "", ""); status != http.StatusNotFound {
		t.Fatalf("GET /metrics on the API: %d, want 404", status)
	}
}

func TestHealthcheck(t *testing.T) {
	addrs := serveWith(t, []string{"API"}, "--data-dir", t.TempDir(), "--http", "127.0.0.1:0", "--ssh", "")
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"status":"unavailable"}`, http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	port := addrs["API"][strings.LastIndexByte(addrs["API"], ':')+1:]

	for _, tc := range []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stderr string
	}{
		{"healthy server", []string{"--url", addrs["API"] + "/healthz"}, nil, 0, ""},
		{"address from --http", []string{"--http", ":" + port}, nil, 0, ""},
		{"address from ANAVARA_HTTP", nil, map[string]string{"ANAVARA_HTTP": "0.0.0.0:" + port}, 0, ""},
		{"unhealthy server", []string{"--url", failing.URL + "/healthz"}, nil, 1, "503 Service Unavailable"},
		{"nothing listening", []string{"--url", closedURL + "/healthz", "--timeout", "2s"}, nil, 1, "connect"},
		{"bad address", []string{"--http", "nonsense"}, nil, 1, "--http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := cli.Execute(context.Background(), append([]string{"healthcheck"}, tc.args...),
				cli.Streams{In: strings.NewReader(""), Out: &stdout, Err: &stderr})
			if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tc.code, tc.stderr)
			}
			if code == 0 && !strings.Contains(stdout.String(), "healthy") {
				t.Errorf("stdout %q", stdout.String())
			}
		})
	}
}

// grepLines returns the lines of s that start with prefix.
func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
