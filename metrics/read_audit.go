package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/anavara/anavara/audit"
)

// ReadAuditStats reports what the audit of reads committed; *audit.Writer
// is one.
type ReadAuditStats interface {
	Stats() audit.Stats
}

// readAuditCollector exports the events of reads committed and the
// transactions that held them, read once per scrape: their ratio is how
// much the writer batches.
type readAuditCollector struct {
	stats        ReadAuditStats
	events       *prometheus.Desc
	transactions *prometheus.Desc
}

func newReadAuditCollector(stats ReadAuditStats) *readAuditCollector {
	return &readAuditCollector{
		stats: stats,
		events: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "audit", "read_events_total"),
			"Audit events of reads of records (record.list, record.search, record.read) committed.", nil, nil),
		transactions: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "audit", "read_transactions_total"),
			"Transactions that committed the audit events of reads; events per transaction is how much concurrent reads share.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (r *readAuditCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- r.events
	ch <- r.transactions
}

// Collect implements prometheus.Collector.
func (r *readAuditCollector) Collect(ch chan<- prometheus.Metric) {
	st := r.stats.Stats()
	ch <- prometheus.MustNewConstMetric(r.events, prometheus.CounterValue, float64(st.Events))
	ch <- prometheus.MustNewConstMetric(r.transactions, prometheus.CounterValue, float64(st.Transactions))
}
