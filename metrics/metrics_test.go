package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/metrics"
)

type fakeSessions struct{ n atomic.Int64 }

func (f *fakeSessions) ActiveSessions() int { return int(f.n.Load()) }

type fakePools []db.PoolStats

func (f fakePools) Pools() []db.PoolStats { return f }

// gather returns the metric families of reg by name.
func gather(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]*dto.MetricFamily, len(fams))
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// find returns the metric of family name whose labels include want.
func find(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric family %s", name)
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		return m
	}
	t.Fatalf("%s has no series with labels %v", name, want)
	return nil
}

func TestRequestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.ObserveRequest("GET", "/api/medical-records/:id", 200, 3*time.Millisecond)
	m.ObserveRequest("GET", "/api/medical-records/:id", 200, 40*time.Millisecond)
	m.ObserveRequest("GET", "/api/medical-records/:id", 404, time.Millisecond)
	m.ObserveRequest("POST", "/api/auth/signup", 201, 2*time.Second)

	fams := gather(t, reg)
	for _, tc := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"method": "GET", "route": "/api/medical-records/:id", "status": "200"}, 2},
		{map[string]string{"method": "GET", "route": "/api/medical-records/:id", "status": "404"}, 1},
		{map[string]string{"method": "POST", "route": "/api/auth/signup", "status": "201"}, 1},
	} {
		if got := find(t, fams, "anavara_http_requests_total", tc.labels).GetCounter().GetValue(); got != tc.want {
			t.Errorf("requests_total%v = %v, want %v", tc.labels, got, tc.want)
		}
	}
	if n := len(fams["anavara_http_requests_total"].GetMetric()); n != 3 {
		t.Errorf("requests_total has %d series, want 3", n)
	}

	h := find(t, fams, "anavara_http_request_duration_seconds", map[string]string{"method": "GET", "route": "/api/medical-records/:id"}).GetHistogram()
	if h.GetSampleCount() != 3 || h.GetSampleSum() < 0.043 || h.GetSampleSum() > 0.0450001 {
		t.Errorf("GET histogram count %d sum %v, want 3 and 0.044", h.GetSampleCount(), h.GetSampleSum())
	}
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() == 0.005 && b.GetCumulativeCount() != 2 {
			t.Errorf("bucket le=0.005 holds %d, want 2", b.GetCumulativeCount())
		}
	}
	for _, lp := range find(t, fams, "anavara_http_request_duration_seconds", map[string]string{"method": "POST"}).GetLabel() {
		if lp.GetName() == "status" {
			t.Error("the latency histogram carries a status label")
		}
	}
}

func TestGaugesReadTheirSourcesAtScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	sessions := &fakeSessions{}
	pools := fakePools{
		{Name: "writer", MaxOpen: 1, Open: 1, InUse: 1, WaitCount: 7, WaitDuration: 1500 * time.Millisecond},
		{Name: "reader", MaxOpen: 8, Open: 5, InUse: 2, Idle: 3},
	}
	if _, err := metrics.New(reg, metrics.Options{SSH: sessions, DB: pools}); err != nil {
		t.Fatal(err)
	}
	sessions.n.Store(3)
	fams := gather(t, reg)
	if got := find(t, fams, "anavara_ssh_sessions_active", nil).GetGauge().GetValue(); got != 3 {
		t.Errorf("ssh_sessions_active = %v, want 3", got)
	}
	sessions.n.Store(1)
	if got := find(t, gather(t, reg), "anavara_ssh_sessions_active", nil).GetGauge().GetValue(); got != 1 {
		t.Errorf("ssh_sessions_active after a session ended = %v, want 1", got)
	}

	for _, tc := range []struct {
		name, pool string
		want       float64
	}{
		{"anavara_db_connections_open", "writer", 1},
		{"anavara_db_connections_in_use", "writer", 1},
		{"anavara_db_connections_idle", "writer", 0},
		{"anavara_db_connections_max_open", "writer", 1},
		{"anavara_db_connections_open", "reader", 5},
		{"anavara_db_connections_in_use", "reader", 2},
		{"anavara_db_connections_idle", "reader", 3},
		{"anavara_db_connections_max_open", "reader", 8},
	} {
		if got := find(t, fams, tc.name, map[string]string{"pool": tc.pool}).GetGauge().GetValue(); got != tc.want {
			t.Errorf("%s{pool=%q} = %v, want %v", tc.name, tc.pool, got, tc.want)
		}
	}
	if got := find(t, fams, "anavara_db_wait_count_total", map[string]string{"pool": "writer"}).GetCounter().GetValue(); got != 7 {
		t.Errorf("wait_count_total{writer} = %v, want 7", got)
	}
	if got := find(t, fams, "anavara_db_wait_duration_seconds_total", map[string]string{"pool": "writer"}).GetCounter().GetValue(); got != 1.5 {
		t.Errorf("wait_duration_seconds_total{writer} = %v, want 1.5", got)
	}
}

func TestWithoutSourcesTheSSHGaugeReadsZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := metrics.New(reg, metrics.Options{}); err != nil {
		t.Fatal(err)
	}
	fams := gather(t, reg)
	if got := find(t, fams, "anavara_ssh_sessions_active", nil).GetGauge().GetValue(); got != 0 {
		t.Errorf("ssh_sessions_active = %v, want 0", got)
	}
	if _, ok := fams["anavara_db_connections_open"]; ok {
		t.Error("pool metrics exported without a database")
	}
}

// Each registry is independent: two servers in one process each get their
// own metrics, and registering twice on one registry is an error rather
// than silently shared state.
func TestRegistriesAreIndependent(t *testing.T) {
	a, b := prometheus.NewRegistry(), prometheus.NewRegistry()
	ma, err := metrics.New(a, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.New(b, metrics.Options{}); err != nil {
		t.Fatal(err)
	}
	ma.ObserveRequest("GET", "/healthz", 200, time.Millisecond)
	if _, ok := gather(t, b)["anavara_http_requests_total"]; ok {
		t.Error("a request observed on one registry shows on the other")
	}
	if _, err := metrics.New(a, metrics.Options{}); err == nil {
		t.Error("registering the metrics twice on one registry succeeded")
	}
}

func TestHandlerServesTextFormat(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.ObserveRequest("GET", "/healthz", 200, time.Millisecond)
	srv := httptest.NewServer(metrics.Handler(reg))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	want := `anavara_http_requests_total{method="GET",route="/healthz",status="200"} 1`
	if !strings.Contains(string(body), want) {
		t.Fatalf("scrape lacks %q:\n%s", want, body)
	}
}
