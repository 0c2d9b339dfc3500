package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/anavara/anavara/metrics"
	"github.com/anavara/anavara/ratelimit"
)

// TestRateLimitAndInstanceMetrics checks the limits' decisions are
// exported per limit and outcome as they are at scrape time, with whether
// they are shared, and the instance id as a label.
func TestRateLimitAndInstanceMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	limits := ratelimit.NewRecorder(ratelimit.Memory{}, false)
	login := limits.Limiter("login", ratelimit.Rule{Limit: 1, Window: time.Minute}, time.Now)
	if _, err := metrics.New(reg, metrics.Options{RateLimits: limits, Instance: "api-1"}); err != nil {
		t.Fatal(err)
	}
	fams := gather(t, reg)
	if got := find(t, fams, "anavara_rate_limit_decisions_total", map[string]string{"limit": "login", "outcome": "limited"}).GetCounter().GetValue(); got != 0 {
		t.Errorf("limited before any check = %v, want 0", got)
	}
	for i := 0; i < 3; i++ {
		login.Allow(context.Background(), "k")
	}
	fams = gather(t, reg)
	for outcome, want := range map[string]float64{"allowed": 1, "limited": 2, "error": 0} {
		if got := find(t, fams, "anavara_rate_limit_decisions_total", map[string]string{"limit": "login", "outcome": outcome}).GetCounter().GetValue(); got != want {
			t.Errorf("decisions_total{login,%s} = %v, want %v", outcome, got, want)
		}
	}
	if got := find(t, fams, "anavara_rate_limit_shared", nil).GetGauge().GetValue(); got != 0 {
		t.Errorf("rate_limit_shared = %v, want 0 for memory", got)
	}
	if got := find(t, fams, "anavara_instance_info", map[string]string{"instance_id": "api-1"}).GetGauge().GetValue(); got != 1 {
		t.Errorf("instance_info{api-1} = %v, want 1", got)
	}
}
