package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// clientFrom is an HTTP client whose connections come from the loopback
// address src, as a separate machine's would.
func clientFrom(src string) *http.Client {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext}}
}

// BenchmarkNormalClientDuringFlood measures what a signed-in client sees
// (200 sequential GET /api/users/me from an address of its own, on the
// keep-alive connection it opened before the flood) while the
// server is quiet, while 4,800 idle connections from 16 addresses press
// on the connection caps, and while 64 clients send logins for unknown
// emails as fast as they are answered, with hashing bounded (the default)
// and unbounded (--hash-concurrency 64, the old behaviour). Run with
// -benchtime=1x.
func BenchmarkNormalClientDuringFlood(b *testing.B) {
	bin := buildBinary(b, b.TempDir())
	cases := []struct {
		name  string
		extra []string
		flood func(ctx context.Context, b *testing.B, url string) (stop func())
	}{
		{"quiet", nil, func(context.Context, *testing.B, string) func() { return func() {} }},
		{"idle-connections", nil, floodIdleConnections},
		{"logins/bounded", nil, floodLogins},
		{"logins/unbounded", []string{"--hash-concurrency", "64"}, floodLogins},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			url := startServer(b, bin, filepath.Join(b.TempDir(), "data"), append([]string{"--ssh", ""}, c.extra...)...)
			normal := clientFrom("127.0.0.99")
			token := signupToken(b, normal, url)
			for range b.N {
				ctx, cancel := context.WithCancel(context.Background())
				stop := c.flood(ctx, b, url)
				time.Sleep(500 * time.Millisecond) // let the flood build up
				lat, failed := sample(b, normal, url, token, 200)
				cancel()
				stop()
				slices.Sort(lat)
				if len(lat) > 0 {
					b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
					b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
				}
				b.ReportMetric(float64(failed), "failed")
			}
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func signupToken(b *testing.B, c *http.Client, url string) string {
	b.Helper()
	body := `{"first_name":"Nor","last_name":"Mal","email":"normal@example.org","password":"` + password + `"}`
	res, err := c.Post(url+"/api/auth/signup", "application/json", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var auth struct {
		AccessToken string `json:"access_token"`
	}
	if err := decodeJSON(res, &auth); err != nil || auth.AccessToken == "" {
		b.Fatalf("signup: %d %v", res.StatusCode, err)
	}
	io.Copy(io.Discard, res.Body)
	return auth.AccessToken
}

// sample sends n GET /api/users/me one after another and returns the
// latencies of those answered 200 and how many were not.
func sample(b *testing.B, c *http.Client, url, token string, n int) ([]time.Duration, int) {
	var lat []time.Duration
	failed := 0
	for range n {
		req, _ := http.NewRequest(http.MethodGet, url+"/api/users/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		start := time.Now()
		res, err := c.Do(req)
		if err != nil {
			if failed == 0 {
				b.Logf("first failure: %v", err)
			}
			failed++
			continue
		}
		// Read to the end, so the client keeps its connection, as a
		// well-behaved keep-alive client does.
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			failed++
			continue
		}
		lat = append(lat, time.Since(start))
	}
	return lat, failed
}

// floodIdleConnections opens 300 connections from each of 16 addresses
// and holds them without sending anything.
func floodIdleConnections(_ context.Context, b *testing.B, url string) func() {
	addr := strings.TrimPrefix(url, "http://")
	var conns []net.Conn
	for i := range 16 {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(fmt.Sprintf("127.0.3.%d", i+1))}, Timeout: 5 * time.Second}
		for range 300 {
			c, err := d.Dial("tcp", addr)
			if err != nil {
				b.Fatalf("flood: %v after %d connections", err, len(conns))
			}
			conns = append(conns, c)
		}
	}
	return func() {
		for _, c := range conns {
			c.Close()
		}
	}
}

// floodLogins runs 64 clients, each from an address of its own, sending
// logins for ever-new unknown emails until ctx ends.
func floodLogins(ctx context.Context, _ *testing.B, url string) func() {
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clientFrom(fmt.Sprintf("127.0.4.%d", i+1))
			for n := 0; ctx.Err() == nil; n++ {
				body := fmt.Sprintf(`{"email":"flood-%d-%d@example.org","password":"Wrong-guess-123"}`, i, n)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/auth/login", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if res, err := c.Do(req); err == nil {
					res.Body.Close()
				}
			}
		}()
	}
	return wg.Wait
}

func decodeJSON(res *http.Response, v any) error { return json.NewDecoder(res.Body).Decode(v) }
