package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/anavara/anavara/ratelimit"
)

// RateLimitStats reports the rate limits' decisions and where their state
// lives; *ratelimit.Recorder is one.
type RateLimitStats interface {
	Decisions() []ratelimit.Decision
	Shared() bool
}

// rateLimitCollector exports every limit's decisions by outcome, and
// whether the limits hold across instances, read once per scrape.
type rateLimitCollector struct {
	stats     RateLimitStats
	decisions *prometheus.Desc
	shared    *prometheus.Desc
}

func newRateLimitCollector(stats RateLimitStats) *rateLimitCollector {
	return &rateLimitCollector{
		stats: stats,
		decisions: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "rate_limit", "decisions_total"),
			"Rate-limit checks, per limit and outcome: allowed or limited (limits), open, blocked or failure (the login back-off), "+
				"error when the limit's state could not be reached (limits then let the request through, the back-off refuses it).",
			[]string{"limit", "outcome"}, nil),
		shared: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "rate_limit", "shared"),
			"1 when the limits' state is in the database and holds across every instance (PostgreSQL), 0 when each process keeps its own.",
			nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (r *rateLimitCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- r.decisions
	ch <- r.shared
}

// Collect implements prometheus.Collector.
func (r *rateLimitCollector) Collect(ch chan<- prometheus.Metric) {
	for _, d := range r.stats.Decisions() {
		ch <- prometheus.MustNewConstMetric(r.decisions, prometheus.CounterValue, float64(d.Count), d.Limit, d.Outcome)
	}
	shared := 0.0
	if r.stats.Shared() {
		shared = 1
	}
	ch <- prometheus.MustNewConstMetric(r.shared, prometheus.GaugeValue, shared)
}
