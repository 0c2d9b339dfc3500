// Package netguard keeps a listening server alive and bounded under a flood
// of connections: it retries accept errors that pass (a full descriptor
// table, a connection aborted before it was accepted) instead of letting
// them end serving, and it closes connections past a total and a
// per-address cap at once, so no client can hold more than its share of
// the process's descriptors.
package netguard

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anavara/anavara/internal/logthrottle"
)

// Options configure a guarded listener.
type Options struct {
	// Name labels the listener in logs ("http", "ssh", "metrics").
	Name string
	// MaxConns caps the connections open at once; 0 means no cap.
	MaxConns int
	// MaxConnsPerAddr caps the connections open at once from one client
	// IP address; 0 means no cap.
	MaxConnsPerAddr int
	// ExemptFromPerAddr are addresses MaxConnsPerAddr does not hold: the
	// trusted reverse proxies, each of which carries the connections of
	// many clients. Their connections still count toward MaxConns.
	ExemptFromPerAddr []netip.Prefix
	// Logger receives accept errors and refusals, at most one line per
	// LogEvery for each kind; nil discards them.
	Logger *slog.Logger
	// LogEvery spaces repeated log lines; default 1 s.
	LogEvery time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Backoff bounds between accept retries, as net/http uses them.
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

// Listener is a net.Listener that never returns an error for a failed
// accept other than its own closing, and that enforces the caps of its
// Options. It is safe for concurrent use.
type Listener struct {
	inner net.Listener
	opts  Options

	closed    chan struct{}
	closeOnce sync.Once

	open   atomic.Int64
	mu     sync.Mutex
	perIP  map[string]int
	logs   *logthrottle.Logger
	stats  Stats
	statsM sync.Mutex
}

// Stats counts what a Listener did since it was made.
type Stats struct {
	// Accepted is how many connections were handed to the server.
	Accepted uint64
	// RefusedTotal and RefusedPerAddr count connections closed at once
	// because the total or the per-address cap was reached.
	RefusedTotal, RefusedPerAddr uint64
	// AcceptErrors counts failed accepts that were retried.
	AcceptErrors uint64
}

// Wrap guards ln with opts. Closing the returned Listener closes ln.
func Wrap(ln net.Listener, opts Options) *Listener {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.LogEvery <= 0 {
		opts.LogEvery = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Listener{
		inner:  ln,
		opts:   opts,
		closed: make(chan struct{}),
		perIP:  make(map[string]int),
		logs:   logthrottle.New(opts.Logger, opts.LogEvery, opts.Now),
	}
}

// Accept waits for the next connection within the caps. A failed accept
// is logged and retried after a growing pause (5 ms doubling to 1 s), so a
// process out of file descriptors keeps serving the connections it has
// and accepts again as soon as some close. Only Close, or the inner
// listener being closed, ends it, with an error matching net.ErrClosed.
func (l *Listener) Accept() (net.Conn, error) {
	var backoff time.Duration
	for {
		c, err := l.inner.Accept()
		if err != nil {
			if l.isClosed() || errors.Is(err, net.ErrClosed) {
				return nil, net.ErrClosed
			}
			l.count(func(s *Stats) { s.AcceptErrors++ })
			if backoff == 0 {
				backoff = minBackoff
			} else {
				backoff = min(2*backoff, maxBackoff)
			}
			l.logf(slog.LevelWarn, "accept failed; retrying",
				"error", err, "retry_in", backoff.String())
			select {
			case <-time.After(backoff):
				continue
			case <-l.closed:
				return nil, net.ErrClosed
			}
		}
		backoff = 0
		if gc, ok := l.admit(c); ok {
			l.count(func(s *Stats) { s.Accepted++ })
			return gc, nil
		}
	}
}

// admit applies the caps to c: it returns the tracked connection, or
// closes c and reports false.
func (l *Listener) admit(c net.Conn) (net.Conn, bool) {
	addr := hostOf(c.RemoteAddr())
	l.mu.Lock()
	if l.opts.MaxConns > 0 && l.open.Load() >= int64(l.opts.MaxConns) {
		l.mu.Unlock()
		l.count(func(s *Stats) { s.RefusedTotal++ })
		c.Close()
		l.logf(slog.LevelWarn, "connection refused: too many open connections",
			"max", l.opts.MaxConns)
		return nil, false
	}
	if l.opts.MaxConnsPerAddr > 0 && l.perIP[addr] >= l.opts.MaxConnsPerAddr && !l.exempt(addr) {
		l.mu.Unlock()
		l.count(func(s *Stats) { s.RefusedPerAddr++ })
		c.Close()
		l.logf(slog.LevelWarn, "connection refused: too many open connections from one address",
			"remote", addr, "max", l.opts.MaxConnsPerAddr)
		return nil, false
	}
	l.perIP[addr]++
	l.open.Add(1)
	l.mu.Unlock()
	return &conn{Conn: c, release: func() { l.release(addr) }}, true
}

// exempt reports whether addr is in ExemptFromPerAddr.
func (l *Listener) exempt(addr string) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap().WithZone("")
	for _, p := range l.opts.ExemptFromPerAddr {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (l *Listener) release(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open.Add(-1)
	if n := l.perIP[addr] - 1; n > 0 {
		l.perIP[addr] = n
	} else {
		delete(l.perIP, addr)
	}
}

// Open is how many accepted connections are open now.
func (l *Listener) Open() int { return int(l.open.Load()) }

// Stats returns the counters so far.
func (l *Listener) Stats() Stats {
	l.statsM.Lock()
	defer l.statsM.Unlock()
	return l.stats
}

func (l *Listener) count(f func(*Stats)) {
	l.statsM.Lock()
	f(&l.stats)
	l.statsM.Unlock()
}

// Close stops Accept and closes the inner listener. Connections already
// accepted stay open; their server closes them.
func (l *Listener) Close() error {
	err := net.ErrClosed
	l.closeOnce.Do(func() {
		close(l.closed)
		err = l.inner.Close()
	})
	return err
}

// Addr is the inner listener's address.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

func (l *Listener) isClosed() bool {
	select {
	case <-l.closed:
		return true
	default:
		return false
	}
}

// logf logs msg with the listener's name, at most one line of each msg
// per LogEvery (see logthrottle).
func (l *Listener) logf(level slog.Level, msg string, args ...any) {
	l.logs.Log(level, msg, append([]any{"listener", l.opts.Name}, args...)...)
}

// hostOf is the IP of a remote address, the unit of the per-address cap.
func hostOf(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// conn gives its slot back exactly once, however often it is closed.
type conn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
