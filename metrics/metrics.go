// Package metrics exports Anavara's operational metrics in the Prometheus
// format: HTTP request counts and latencies by route and status, active SSH
// sessions, the database connection pools and the listener for changes to
// users, password hashing, each listener's connections, the rate limits'
// decisions and the instance id. Everything is registered on a registry the
// caller owns; nothing touches Prometheus' global default registry.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/netguard"
)

// Namespace prefixes every metric name.
const Namespace = "anavara"

// SessionCounter reports how many SSH sessions are open; *sshapp.Server is
// one.
type SessionCounter interface {
	ActiveSessions() int
}

// PoolStats reports the connection-pool statistics of the database's
// pools (SQLite's writer and readers, PostgreSQL's pool); db.Store is one.
type PoolStats interface {
	Pools() []db.PoolStats
}

// HashingStats reports the password hashes running and waiting;
// *password.Hasher is one.
type HashingStats interface {
	InUse() int
	Waiting() int
}

// ListenerStats reports a listener's open connections and what it refused;
// *netguard.Listener is one.
type ListenerStats interface {
	Open() int
	Stats() netguard.Stats
}

// Options are the sources the metrics read at scrape time. Any may be
// nil: the SSH gauge then reads 0 and the other metrics are not exported.
type Options struct {
	// SSH counts the active SSH sessions.
	SSH SessionCounter
	// DB reports the connection pools, and the listener for changes to
	// users if it has one (db.UsersListener).
	DB PoolStats
	// Hashing reports password hashing.
	Hashing HashingStats
	// Listeners report each listening port's connections, by name
	// ("http", "ssh").
	Listeners map[string]ListenerStats
	// RateLimits reports the authentication rate limits' decisions.
	RateLimits RateLimitStats
	// ReadAudit reports the audit of reads of records.
	ReadAudit ReadAuditStats
	// Instance names this process among the instances sharing a
	// database; it is exported as anavara_instance_info{instance_id}.
	Instance string
	// DurationBuckets are the request-latency histogram buckets in
	// seconds; nil uses prometheus.DefBuckets (5 ms to 10 s).
	DurationBuckets []float64
}

// Metrics records HTTP requests. It implements server.RequestObserver.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New builds Anavara's metrics and registers them on reg.
func New(reg *prometheus.Registry, opts Options) (*Metrics, error) {
	buckets := opts.DurationBuckets
	if buckets == nil {
		buckets = prometheus.DefBuckets
	}
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by method, route pattern and status code.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method and route pattern.",
			Buckets: buckets,
		}, []string{"method", "route"}),
	}
	ssh := opts.SSH
	collectors := []prometheus.Collector{
		m.requests,
		m.duration,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "ssh", Name: "sessions_active",
			Help: "SSH sessions open now.",
		}, func() float64 {
			if ssh == nil {
				return 0
			}
			return float64(ssh.ActiveSessions())
		}),
	}
	if opts.DB != nil {
		collectors = append(collectors, newPoolCollector(opts.DB))
	}
	if l, ok := opts.DB.(db.UsersListener); ok {
		collectors = append(collectors, newUsersListenerCollector(l))
	}
	if h := opts.Hashing; h != nil {
		collectors = append(collectors,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: Namespace, Subsystem: "password", Name: "hashes_running",
				Help: "Password hashes (argon2id) computing now; at most --hash-concurrency.",
			}, func() float64 { return float64(h.InUse()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: Namespace, Subsystem: "password", Name: "hashes_waiting",
				Help: "Requests waiting for a password-hashing slot now.",
			}, func() float64 { return float64(h.Waiting()) }),
		)
	}
	if len(opts.Listeners) > 0 {
		collectors = append(collectors, newListenerCollector(opts.Listeners))
	}
	if opts.RateLimits != nil {
		collectors = append(collectors, newRateLimitCollector(opts.RateLimits))
	}
	if opts.ReadAudit != nil {
		collectors = append(collectors, newReadAuditCollector(opts.ReadAudit))
	}
	if opts.Instance != "" {
		collectors = append(collectors, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "instance_info",
			Help:        "Always 1; its label is the instance id that this process's log lines carry (--instance-id).",
			ConstLabels: prometheus.Labels{"instance_id": opts.Instance},
		}, func() float64 { return 1 }))
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ObserveRequest counts one answered request and its latency. route must be
// a route pattern, never a raw path, to keep the number of series bounded.
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

// Handler serves the metrics registered on reg in the Prometheus text
// format.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// poolCollector exports database/sql pool statistics, reading them once per
// scrape so the writer and reader figures come from the same moment.
type poolCollector struct {
	stats     PoolStats
	open      *prometheus.Desc
	inUse     *prometheus.Desc
	idle      *prometheus.Desc
	maxOpen   *prometheus.Desc
	waitCount *prometheus.Desc
	waitTime  *prometheus.Desc
}

func newPoolCollector(stats PoolStats) *poolCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "db", name), help, []string{"pool"}, nil)
	}
	return &poolCollector{
		stats:     stats,
		open:      desc("connections_open", "Open database connections (in use and idle), per pool: writer or reader on SQLite, pool on PostgreSQL."),
		inUse:     desc("connections_in_use", "Database connections in use, per pool."),
		idle:      desc("connections_idle", "Idle database connections, per pool."),
		maxOpen:   desc("connections_max_open", "Most connections the pool may open."),
		waitCount: desc("wait_count_total", "Times a query waited for a free connection, per pool."),
		waitTime:  desc("wait_duration_seconds_total", "Total time queries waited for a free connection, per pool."),
	}
}

// Describe implements prometheus.Collector.
func (p *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{p.open, p.inUse, p.idle, p.maxOpen, p.waitCount, p.waitTime} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (p *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for _, pool := range p.stats.Pools() {
		ch <- prometheus.MustNewConstMetric(p.open, prometheus.GaugeValue, float64(pool.Open), pool.Name)
		ch <- prometheus.MustNewConstMetric(p.inUse, prometheus.GaugeValue, float64(pool.InUse), pool.Name)
		ch <- prometheus.MustNewConstMetric(p.idle, prometheus.GaugeValue, float64(pool.Idle), pool.Name)
		ch <- prometheus.MustNewConstMetric(p.maxOpen, prometheus.GaugeValue, float64(pool.MaxOpen), pool.Name)
		ch <- prometheus.MustNewConstMetric(p.waitCount, prometheus.CounterValue, float64(pool.WaitCount), pool.Name)
		ch <- prometheus.MustNewConstMetric(p.waitTime, prometheus.CounterValue, pool.WaitDuration.Seconds(), pool.Name)
	}
}

// listenerCollector exports each listener's open connections and the
// connections it refused or failed to accept, read once per scrape.
type listenerCollector struct {
	listeners    map[string]ListenerStats
	open         *prometheus.Desc
	refused      *prometheus.Desc
	acceptErrors *prometheus.Desc
}

func newListenerCollector(listeners map[string]ListenerStats) *listenerCollector {
	name := func(n string) string { return prometheus.BuildFQName(Namespace, "connections", n) }
	return &listenerCollector{
		listeners: listeners,
		open:      prometheus.NewDesc(name("open"), "Connections open now, per listener.", []string{"listener"}, nil),
		refused: prometheus.NewDesc(name("refused_total"),
			"Connections closed at once because a cap was reached, per listener and cap: total or per_address.",
			[]string{"listener", "cap"}, nil),
		acceptErrors: prometheus.NewDesc(name("accept_errors_total"),
			"Failed accepts that were retried (out of file descriptors, say), per listener.", []string{"listener"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (l *listenerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- l.open
	ch <- l.refused
	ch <- l.acceptErrors
}

// Collect implements prometheus.Collector.
func (l *listenerCollector) Collect(ch chan<- prometheus.Metric) {
	for name, ln := range l.listeners {
		st := ln.Stats()
		ch <- prometheus.MustNewConstMetric(l.open, prometheus.GaugeValue, float64(ln.Open()), name)
		ch <- prometheus.MustNewConstMetric(l.refused, prometheus.CounterValue, float64(st.RefusedTotal), name, "total")
		ch <- prometheus.MustNewConstMetric(l.refused, prometheus.CounterValue, float64(st.RefusedPerAddr), name, "per_address")
		ch <- prometheus.MustNewConstMetric(l.acceptErrors, prometheus.CounterValue, float64(st.AcceptErrors), name)
	}
}
