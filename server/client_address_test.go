package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/server"
)

const addressServiceToken = "client-address-test-service-token-0123"

// callFrom sends method path with body from the loopback address src to
// base, with the given headers (a "Host" entry sets the request's Host),
// and returns the status and body.
func callFrom(t *testing.T, base, src, method, path string, body any, headers [][2]string) (int, []byte) {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: dialer.DialContext}
	defer tr.CloseIdleConnections()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, kv := range headers {
		if kv[0] == "Host" {
			req.Host = kv[1]
			continue
		}
		req.Header.Add(kv[0], kv[1])
	}
	res, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s from %s: %v", method, path, src, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, data
}

// signupAuditIP signs up email from src with headers and returns the ip
// its signup was audited with.
func signupAuditIP(t *testing.T, h *harness, base, src, email string, headers [][2]string) string {
	t.Helper()
	status, body := callFrom(t, base, src, http.MethodPost, "/api/auth/signup", map[string]any{
		"first_name": "Pat", "last_name": "Ient", "email": email, "password": testPassword,
	}, headers)
	if status != http.StatusCreated {
		t.Fatalf("signup from %s: %d %s", src, status, body)
	}
	var res model.AuthResponse
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	events, _, err := h.store.Read().ListAudit(context.Background(), db.AuditFilter{EntityID: res.User.ID, Action: model.ActionSignup, Limit: 10})
	if err != nil || len(events) != 1 {
		t.Fatalf("signup audit events %+v, %v; want one", events, err)
	}
	return events[0].IP
}

func prefixes(t *testing.T, setting string) []netip.Prefix {
	t.Helper()
	p, err := server.ParseTrustedProxies(setting)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestClientAddress is the regression for audit addresses and limiter
// keys that were the socket peer's whatever the deployment: the SSH front
// end's sessions were all 127.0.0.1. The client address is the one a
// service caller forwards, else the nearest untrusted X-Forwarded-For
// entry when the peer is a trusted proxy, else the peer; forged headers
// change nothing.
func TestClientAddress(t *testing.T) {
	xff := func(v string) [2]string { return [2]string{"X-Forwarded-For", v} }
	fwd := func(v string) [2]string { return [2]string{server.HeaderClientAddress, v} }
	tok := func(v string) [2]string { return [2]string{server.HeaderServiceToken, v} }
	tests := []struct {
		name    string
		proxies string
		src     string
		headers [][2]string
		want    string
	}{
		{"no proxies: forged XFF ignored", "", "127.0.0.10", [][2]string{xff("203.0.113.9")}, "127.0.0.10"},
		{"no proxies: no headers", "", "127.0.0.11", nil, "127.0.0.11"},
		{"trusted proxy: rightmost untrusted entry, not the spoofed leftmost", "127.0.0.20", "127.0.0.20",
			[][2]string{xff("198.51.100.66, 203.0.113.9")}, "203.0.113.9"},
		{"trusted proxies: inner proxies skipped", "127.0.0.20/32,10.0.0.0/8", "127.0.0.20",
			[][2]string{xff("198.51.100.66, 203.0.113.9, 10.1.2.3")}, "203.0.113.9"},
		{"trusted proxy: every header line counts", "127.0.0.20", "127.0.0.20",
			[][2]string{xff("198.51.100.66"), xff("203.0.113.9")}, "203.0.113.9"},
		{"trusted proxy: malformed entry stops the walk at the peer", "127.0.0.20", "127.0.0.20",
			[][2]string{xff("203.0.113.9, not-an-ip")}, "127.0.0.20"},
		{"trusted proxies: malformed entry stops at the last good one", "127.0.0.20,10.0.0.0/8", "127.0.0.20",
			[][2]string{xff("203.0.113.9, bogus, 10.1.2.3")}, "10.1.2.3"},
		{"trusted proxy: no XFF is the peer", "127.0.0.20", "127.0.0.20", nil, "127.0.0.20"},
		{"trusted proxy: IPv6 client", "127.0.0.20", "127.0.0.20", [][2]string{xff("2001:db8::5")}, "2001:db8::5"},
		{"untrusted peer: XFF ignored", "127.0.0.20", "127.0.0.21", [][2]string{xff("203.0.113.9")}, "127.0.0.21"},
		{"service token and client address", "", "127.0.0.30", [][2]string{tok(addressServiceToken), fwd("192.0.2.44")}, "192.0.2.44"},
		{"service token and IPv6 client address", "", "127.0.0.30", [][2]string{tok(addressServiceToken), fwd(" 2001:db8::7 ")}, "2001:db8::7"},
		{"service token wins over a trusted proxy's XFF", "127.0.0.20", "127.0.0.20",
			[][2]string{tok(addressServiceToken), fwd("192.0.2.45"), xff("203.0.113.9")}, "192.0.2.45"},
		{"client address without a service token is ignored", "", "127.0.0.31", [][2]string{fwd("192.0.2.46")}, "127.0.0.31"},
		{"client address with a wrong service token is ignored", "", "127.0.0.32",
			[][2]string{tok("not-the-service-token"), fwd("192.0.2.47")}, "127.0.0.32"},
		{"malformed client address without a service token is ignored", "", "127.0.0.33",
			[][2]string{fwd("192.0.2.48, 10.0.0.1")}, "127.0.0.33"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, withConfig(func(c *server.Config) {
				c.TrustedProxies = prefixes(t, tc.proxies)
				c.ServiceTokens = []string{addressServiceToken}
			}))
			base := h.serveOnLoopback()
			email := "addr" + string(rune('a'+i)) + "@example.org"
			if got := signupAuditIP(t, h, base, tc.src, email, tc.headers); got != tc.want {
				t.Fatalf("audited from %q, want %q", got, tc.want)
			}
		})
	}
}

// TestClientAddressMalformedFromService: a service caller's client
// address that is not one IP literal is refused, naming the header, and
// nothing is done.
func TestClientAddressMalformedFromService(t *testing.T) {
	h := newHarness(t, withConfig(func(c *server.Config) { c.ServiceTokens = []string{addressServiceToken} }))
	for _, bad := range []string{"192.0.2.1, 192.0.2.2", "192.0.2.1:22", "localhost", "[2001:db8::1]", "fe80::1%eth0", "192.0.2.300"} {
		h.send(request{method: http.MethodPost, path: "/api/auth/signup",
			body:    map[string]any{"first_name": "Pat", "last_name": "Ient", "email": "bad@example.org", "password": testPassword},
			headers: map[string]string{server.HeaderServiceToken: addressServiceToken, server.HeaderClientAddress: bad}}).
			expectError(http.StatusBadRequest, "Malformed X-Anavara-Client-Address header: send one IP address.")
	}
	if _, err := h.store.Read().UserByEmail(context.Background(), "bad@example.org"); err != db.ErrNotFound {
		t.Fatalf("account after refused signups: %v, want none", err)
	}
}

// TestClientAddressKeysTheLimits: signups a service caller forwards for
// distinct clients are limited per client, not all in the caller's
// bucket (the 21st SSH sign-up was told "Too many attempts"), and a
// client address without the service credential does not escape the
// peer's bucket.
func TestClientAddressKeysTheLimits(t *testing.T) {
	limits := testLimits()
	limits.SignupPerIP = ratelimit.Rule{Limit: 2, Window: time.Hour}
	h := newHarness(t, withLimits(limits), withConfig(func(c *server.Config) { c.ServiceTokens = []string{addressServiceToken} }))
	n := 0
	signup := func(headers map[string]string) *response {
		n++
		return h.send(request{method: http.MethodPost, path: "/api/auth/signup",
			body:    map[string]any{"first_name": "Pat", "last_name": "Ient", "email": "limit" + string(rune('a'+n)) + "@example.org", "password": testPassword},
			headers: headers})
	}
	as := func(addr string) map[string]string {
		return map[string]string{server.HeaderServiceToken: addressServiceToken, server.HeaderClientAddress: addr}
	}
	signup(as("192.0.2.1")).expect(http.StatusCreated)
	signup(as("192.0.2.1")).expect(http.StatusCreated)
	signup(as("192.0.2.1")).expect(http.StatusTooManyRequests)
	signup(as("192.0.2.2")).expect(http.StatusCreated)
	signup(as("192.0.2.2")).expect(http.StatusCreated)
	// Without the credential the header is ignored: the peer's bucket
	// fills, whatever address each request claims.
	spoof := func(addr string) map[string]string { return map[string]string{server.HeaderClientAddress: addr} }
	signup(spoof("198.51.100.1")).expect(http.StatusCreated)
	signup(spoof("198.51.100.2")).expect(http.StatusCreated)
	signup(spoof("198.51.100.3")).expect(http.StatusTooManyRequests)
	signup(nil).expect(http.StatusTooManyRequests)
	// The forwarding caller's own bucket is untouched by its clients.
	signup(as("192.0.2.3")).expect(http.StatusCreated)
}

// TestParseTrustedProxies covers the --trusted-proxies setting.
func TestParseTrustedProxies(t *testing.T) {
	good := []struct {
		in   string
		want string
	}{
		{"", "[]"},
		{"10.0.0.0/8", "[10.0.0.0/8]"},
		{"10.1.2.3/8, 192.0.2.7 ,2001:db8::/32,::1", "[10.0.0.0/8 192.0.2.7/32 2001:db8::/32 ::1/128]"},
		{"::ffff:192.0.2.7", "[192.0.2.7/32]"},
	}
	for _, tc := range good {
		got, err := server.ParseTrustedProxies(tc.in)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if s := fmtPrefixes(got); s != tc.want {
			t.Fatalf("%q: %s, want %s", tc.in, s, tc.want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.1,,10.0.0.2", "10.0.0.1,", "10.0.0.0/8/8", "::ffff:10.0.0.0/104"} {
		if _, err := server.ParseTrustedProxies(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

func fmtPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return "[" + strings.Join(s, " ") + "]"
}
