package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/anavara/anavara/db"
)

// usersListenerCollector exports the state of a store's listener for other
// processes' changes to users (db.UsersListener, PostgreSQL's): while it is
// not connected the server reads every authenticated user's row afresh, so
// a listener down shows as more database reads, not as stale answers.
type usersListenerCollector struct {
	listener      db.UsersListener
	connected     *prometheus.Desc
	notifications *prometheus.Desc
	reconnects    *prometheus.Desc
	unacked       *prometheus.Desc
}

func newUsersListenerCollector(l db.UsersListener) *usersListenerCollector {
	name := func(n string) string { return prometheus.BuildFQName(Namespace, "db", n) }
	return &usersListenerCollector{
		listener: l,
		connected: prometheus.NewDesc(name("users_listener_connected"),
			"1 while the database connection that hears other servers' changes to users is listening, else 0 (user rows are then not cached).", nil, nil),
		notifications: prometheus.NewDesc(name("users_notifications_total"),
			"Announcements of changes to users heard from the database, this server's own included.", nil, nil),
		reconnects: prometheus.NewDesc(name("users_listener_reconnects_total"),
			"Times the listener for changes to users listened again after losing its connection.", nil, nil),
		unacked: prometheus.NewDesc(name("users_announcements_unacknowledged_total"),
			"Changes to users this server made that answered after the longest wait, before every server's listener had acknowledged hearing of them.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (u *usersListenerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- u.connected
	ch <- u.notifications
	ch <- u.reconnects
	ch <- u.unacked
}

// Collect implements prometheus.Collector.
func (u *usersListenerCollector) Collect(ch chan<- prometheus.Metric) {
	st := u.listener.UsersListener()
	connected := 0.0
	if st.Connected {
		connected = 1
	}
	ch <- prometheus.MustNewConstMetric(u.connected, prometheus.GaugeValue, connected)
	ch <- prometheus.MustNewConstMetric(u.notifications, prometheus.CounterValue, float64(st.Notifications))
	ch <- prometheus.MustNewConstMetric(u.reconnects, prometheus.CounterValue, float64(st.Reconnects))
	ch <- prometheus.MustNewConstMetric(u.unacked, prometheus.CounterValue, float64(st.Unacknowledged))
}
