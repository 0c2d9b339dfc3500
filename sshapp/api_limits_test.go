package sshapp_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/server"
	"github.com/anavara/anavara/sshapp"
)

// asSSHServe configures a front end as ssh-serve runs it: its connection
// limit local (ConnectionsPerIP) and then the API's.
func asSSHServe(t *testing.T, token string) envOption {
	return func(c *sshapp.Config) {
		limits, err := sshapp.NewAPILimits(c.APIURL, token, c.HTTPClient)
		if err != nil {
			t.Fatal(err)
		}
		c.RateLimits = limits
	}
}

// startFrontEnd runs another front end with cfg and returns its address.
func startFrontEnd(t *testing.T, cfg sshapp.Config) string {
	t.Helper()
	srv, err := sshapp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}

// dialAt opens an SSH connection from the loopback address src to the
// front end at addr and closes it again once the handshake is done.
func (e *env) dialAt(addr, src string) error {
	e.t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	c, chans, reqs, err := gossh.NewClientConn(conn, addr, &gossh.ClientConfig{
		User: "anyone", Auth: []gossh.AuthMethod{gossh.PublicKeys(newKey(e.t))},
		HostKeyCallback: gossh.FixedHostKey(e.hostKey), Timeout: 10 * time.Second,
	})
	if err != nil {
		conn.Close()
		return err
	}
	return gossh.NewClient(c, chans, reqs).Close()
}

// TestConnectionRateLimitSharedThroughAPI is the regression for ssh-serve
// keeping the per-address limit in its own memory: two front ends without
// a database, each allowing 2 connections an hour from one address on its
// own, let that address connect 4 times over both. Asking the API, whose
// limit is also 2, they let it connect twice in all.
func TestConnectionRateLimitSharedThroughAPI(t *testing.T) {
	rule := ratelimit.Rule{Limit: 2, Window: time.Hour}
	e := newEnvWithAPI(t, func(c *server.Config) { c.Limits.SSHConnectionsPerIP = rule },
		func(c *sshapp.Config) { c.ConnectionsPerIP = rule }, asSSHServe(t, serviceToken))
	// other has not counted the address itself, only the API has.
	other := startFrontEnd(t, e.cfg)
	// Not the same RateLimits: this front end is another process.
	cfg := e.cfg
	asSSHServe(t, serviceToken)(&cfg)
	third := startFrontEnd(t, cfg)

	const src = "127.0.0.91"
	if err := e.dialAt(e.sshAddr, src); err != nil {
		t.Fatalf("first connection: %v", err)
	}
	if err := e.dialAt(third, src); err != nil {
		t.Fatalf("second connection, to the other front end: %v", err)
	}
	for _, addr := range []string{e.sshAddr, third, other} {
		if e.dialAt(addr, src) == nil {
			t.Fatalf("a third connection within the window was accepted by %s", addr)
		}
	}
	// The limit is per address: another client still gets in.
	if err := e.dialAt(third, "127.0.0.92"); err != nil {
		t.Fatalf("a connection from another address: %v", err)
	}
}

// TestConnectionRateLimitLocalFirst: the front end's own rule is checked
// before the API's, so a flooding address is turned away without asking
// the API, and the API's bucket is left for the address's connections
// through other front ends.
func TestConnectionRateLimitLocalFirst(t *testing.T) {
	e := newEnvWithAPI(t, func(c *server.Config) { c.Limits.SSHConnectionsPerIP = ratelimit.Rule{Limit: 3, Window: time.Hour} },
		func(c *sshapp.Config) { c.ConnectionsPerIP = ratelimit.Rule{Limit: 1, Window: time.Hour} }, asSSHServe(t, serviceToken))
	cfg := e.cfg
	asSSHServe(t, serviceToken)(&cfg)
	other := startFrontEnd(t, cfg)

	const src = "127.0.0.93"
	if err := e.dialAt(e.sshAddr, src); err != nil {
		t.Fatalf("first connection: %v", err)
	}
	for range 5 {
		if e.dialAt(e.sshAddr, src) == nil {
			t.Fatal("a second connection was accepted past the front end's own limit of 1")
		}
	}
	// Had the refused five reached the API, its 3 would be spent.
	if err := e.dialAt(other, src); err != nil {
		t.Fatalf("connection through the other front end: %v", err)
	}
}

// TestBuiltInAndSSHServeShareOnPostgres: serve's built-in front end,
// which counts in the database directly, and an ssh-serve, which asks the
// API, draw on one bucket per address.
func TestBuiltInAndSSHServeShareOnPostgres(t *testing.T) {
	if !testenv.OnPostgres() {
		t.Skip("serve's built-in front end keeps the limit in the database on PostgreSQL; on SQLite in its own memory")
	}
	rule := ratelimit.Rule{Limit: 2, Window: time.Hour}
	e := newEnvWithAPI(t, func(c *server.Config) { c.Limits.SSHConnectionsPerIP = rule },
		func(c *sshapp.Config) { c.ConnectionsPerIP = rule })
	cfg := e.cfg
	asSSHServe(t, serviceToken)(&cfg)
	sshServe := startFrontEnd(t, cfg)

	const src = "127.0.0.94"
	if err := e.dialAt(e.sshAddr, src); err != nil {
		t.Fatalf("first connection, to the built-in front end: %v", err)
	}
	if err := e.dialAt(sshServe, src); err != nil {
		t.Fatalf("second connection, to ssh-serve: %v", err)
	}
	for _, addr := range []string{sshServe, e.sshAddr} {
		if e.dialAt(addr, src) == nil {
			t.Fatalf("a third connection within the window was accepted by %s", addr)
		}
	}
}

// TestConnectionAllowedWhenAPILimitFails: an API that answers the check
// with an error (here a service credential it does not accept) lets the
// connection in, with a warning, as a limiter that cannot be asked does.
func TestConnectionAllowedWhenAPILimitFails(t *testing.T) {
	var logs testenv.LockedBuffer
	e := newEnvWithAPI(t, func(c *server.Config) { c.Limits.SSHConnectionsPerIP = ratelimit.Rule{Limit: 1, Window: time.Hour} },
		asSSHServe(t, "not-the-service-token"),
		func(c *sshapp.Config) { c.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	for i := range 3 {
		if err := e.dialAt(e.sshAddr, "127.0.0.95"); err != nil {
			t.Fatalf("connection %d: %v", i+1, err)
		}
	}
	if !strings.Contains(logs.String(), "ssh connection rate limit unavailable, connection allowed") {
		t.Fatalf("no warning logged:\n%s", logs.String())
	}
}
