package metrics_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/anavara/anavara/metrics"
	"github.com/anavara/anavara/netguard"
	"github.com/anavara/anavara/password"
)

// TestListenerAndHashingMetrics reads a real guarded listener that refused
// a connection and a real hasher with its only slot taken.
func TestListenerAndHashingMetrics(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := netguard.Wrap(raw, netguard.Options{Name: "http", MaxConnsPerAddr: 1})
	defer ln.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	first, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	<-accepted
	second, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	second.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := second.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("second connection from one address: read %v, want it closed", err)
	}
	second.Close()

	hasher := password.NewHasher(password.HasherOptions{
		Params:      password.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32},
		Concurrency: 1,
	})
	reg := prometheus.NewRegistry()
	if _, err := metrics.New(reg, metrics.Options{Hashing: hasher, Listeners: map[string]metrics.ListenerStats{"http": ln}}); err != nil {
		t.Fatal(err)
	}
	fams := gather(t, reg)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"anavara_connections_open", map[string]string{"listener": "http"}, 1},
		{"anavara_connections_refused_total", map[string]string{"listener": "http", "cap": "per_address"}, 1},
		{"anavara_connections_refused_total", map[string]string{"listener": "http", "cap": "total"}, 0},
		{"anavara_connections_accept_errors_total", map[string]string{"listener": "http"}, 0},
		{"anavara_password_hashes_running", nil, 0},
	} {
		m := find(t, fams, c.name, c.labels)
		got := m.GetGauge().GetValue() + m.GetCounter().GetValue()
		if got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// A hash in progress shows while it runs (these costs take hundreds of
	// milliseconds).
	slow := password.NewHasher(password.HasherOptions{
		Params:      password.Params{Memory: 64 * 1024, Iterations: 4, Parallelism: 1, SaltLength: 16, KeyLength: 32},
		Concurrency: 1,
	})
	reg = prometheus.NewRegistry()
	if _, err := metrics.New(reg, metrics.Options{Hashing: slow}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		slow.Hash(context.Background(), "x")
	}()
	deadline := time.Now().Add(5 * time.Second)
	for find(t, gather(t, reg), "anavara_password_hashes_running", nil).GetGauge().GetValue() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("hashes_running never read 1 while a hash ran")
		}
		time.Sleep(time.Millisecond)
	}
	<-done
	if got := find(t, gather(t, reg), "anavara_password_hashes_running", nil).GetGauge().GetValue(); got != 0 {
		t.Errorf("hashes_running after the hash finished = %v, want 0", got)
	}
}
