// Package sshapp serves Anavara's terminal UI over SSH with wish. It never
// touches the database: after the handshake proves that the client holds a
// key, it exchanges the key's fingerprint for a token pair at the API and
// runs the same tui program that `anavara tui` runs, one per session.
package sshapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	"github.com/charmbracelet/wish/activeterm"
	"github.com/charmbracelet/wish/bubbletea"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"

	"github.com/anavara/anavara/internal/logthrottle"
	"github.com/anavara/anavara/ratelimit"
)

// Config configures the SSH front end.
type Config struct {
	// HostKeyPEM is the server's private host key (see LoadOrCreateHostKey).
	HostKeyPEM []byte
	// APIURL is the base URL of the Anavara API.
	APIURL string
	// PublicAPIURL is the API's address as SSH users' own computers reach
	// it, for the instructions the UI shows to fetch an export there (a
	// session never writes files on this host); "" means APIURL.
	PublicAPIURL string
	// ServiceToken authenticates this front end at the API's ssh-login.
	ServiceToken string
	// AllowUnknownKeys lets keys no account has open the sign-in screen;
	// false refuses them during the handshake.
	AllowUnknownKeys bool
	// IdleTimeout closes a connection without traffic; default 15 minutes.
	IdleTimeout time.Duration
	// MaxSessionTime closes any connection after this long; default 8 hours.
	MaxSessionTime time.Duration
	// MaxSessions caps concurrent sessions; default 256.
	MaxSessions int
	// MaxAnonymousSessions caps the sessions of keys no account has (the
	// sign-in screen), so registered users always find one of the other
	// MaxSessions-MaxAnonymousSessions slots; default a quarter of
	// MaxSessions (at least 1), never more than MaxSessions.
	MaxAnonymousSessions int
	// HandshakeTimeout is how long a connection may take from connecting to
	// completing authentication before it is closed; default 20 s.
	HandshakeTimeout time.Duration
	// MaxUnauthenticated caps connections that have not completed
	// authentication yet; past it new connections are closed at once.
	// Default 64.
	MaxUnauthenticated int
	// ConnectionsPerIP limits new connections per client address; default
	// 30 a minute.
	ConnectionsPerIP ratelimit.Rule
	// RateLimits keeps ConnectionsPerIP's state; nil keeps it in memory.
	// Run in-process with serve on PostgreSQL, it is the database's, so
	// the limit holds across every instance; run apart from the API
	// (ssh-serve), it is APILimits, so the API's limit holds too.
	RateLimits ratelimit.Store
	// ShutdownGrace is how long Shutdown lets sessions end on their own
	// after telling them; default 10 s.
	ShutdownGrace time.Duration
	// HTTPClient talks to the API; nil uses a client with sane timeouts.
	HTTPClient *http.Client
	// Logger receives connection logs (never tokens or record contents).
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Banner is shown to clients before authentication when unknown keys are
// refused.
const Banner = "Anavara: only registered SSH keys may sign in. Add yours in `anavara tui` under Profile → SSH keys.\n"

// Server is the SSH front end.
type Server struct {
	cfg      Config
	ssh      *ssh.Server
	limiter  ratelimit.Counter
	sessions *sessionRegistry
	pending  *pendingCount
	// conns are the connections admitted and not yet closed.
	conns *connections
	// listeners are those Serve accepts on, for Shutdown to close.
	lnMu      sync.Mutex
	listeners []net.Listener
	// refusals logs turned-away connections, a line a second at most per
	// kind: a flood must not become a flood of log lines.
	refusals *logthrottle.Logger
}

// New builds the SSH server from cfg.
func New(cfg Config) (*Server, error) {
	if len(cfg.HostKeyPEM) == 0 {
		return nil, errors.New("sshapp: no host key")
	}
	if cfg.APIURL == "" {
		return nil, errors.New("sshapp: no API URL")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 15 * time.Minute
	}
	if cfg.MaxSessionTime <= 0 {
		cfg.MaxSessionTime = 8 * time.Hour
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 256
	}
	if cfg.MaxAnonymousSessions <= 0 {
		cfg.MaxAnonymousSessions = max(cfg.MaxSessions/4, 1)
	}
	cfg.MaxAnonymousSessions = min(cfg.MaxAnonymousSessions, cfg.MaxSessions)
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 20 * time.Second
	}
	if cfg.MaxUnauthenticated <= 0 {
		cfg.MaxUnauthenticated = 64
	}
	if cfg.ConnectionsPerIP == (ratelimit.Rule{}) {
		cfg.ConnectionsPerIP = ratelimit.Rule{Limit: 30, Window: time.Minute}
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 10 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RateLimits == nil {
		cfg.RateLimits = ratelimit.Memory{}
	}
	s := &Server{
		cfg:      cfg,
		limiter:  cfg.RateLimits.Limiter(connectLimit, cfg.ConnectionsPerIP, cfg.Now),
		sessions: newSessionRegistry(cfg.MaxSessions, cfg.MaxAnonymousSessions),
		pending:  &pendingCount{max: cfg.MaxUnauthenticated},
		conns:    newConnections(),
		refusals: logthrottle.New(cfg.Logger, time.Second, cfg.Now),
	}
	opts := []ssh.Option{
		wish.WithHostKeyPEM(cfg.HostKeyPEM),
		// Only public keys: no password or keyboard-interactive handler is
		// installed, so those methods are refused.
		wish.WithPublicKeyAuth(s.acceptKey),
		wish.WithIdleTimeout(cfg.IdleTimeout),
		wish.WithMaxTimeout(cfg.MaxSessionTime),
		wish.WithMiddleware(
			// Listed innermost first: the last runs first.
			bubbletea.MiddlewareWithProgramHandler(s.program, termenv.Ascii),
			// After identify: whether the key belongs to an account decides
			// which share of the slots the session may take.
			s.capSessions,
			s.identify,
			activeterm.Middleware(),
			// Before the PTY check: a command (ssh host token) needs none.
			s.commands,
			s.logSession,
		),
	}
	if !cfg.AllowUnknownKeys {
		opts = append(opts, wish.WithBanner(Banner))
	}
	srv, err := wish.NewServer(opts...)
	if err != nil {
		return nil, fmt.Errorf("sshapp: %w", err)
	}
	srv.ConnCallback = s.admit
	srv.ServerConfigCallback = s.serverConfig
	s.ssh = srv
	return s, nil
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.lnMu.Lock()
	s.listeners = append(s.listeners, ln)
	s.lnMu.Unlock()
	err := s.ssh.Serve(ln)
	if errors.Is(err, ssh.ErrServerClosed) || s.conns.isClosing() {
		return nil
	}
	return err
}

// Shutdown stops accepting connections, tells every open session that the
// server is going down, waits up to the grace period (or until ctx ends)
// for the connections to end, then closes whatever is left, connections
// still in their handshake included. It returns when every connection has
// ended, or when ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	drained := s.conns.beginClose()
	s.lnMu.Lock()
	for _, ln := range s.listeners {
		ln.Close()
	}
	s.lnMu.Unlock()
	s.sessions.closeAll()
	graceCtx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownGrace)
	defer cancel()
	select {
	case <-drained:
	case <-graceCtx.Done():
	}
	s.conns.closeAll()
	err := s.ssh.Close() // ends Serve with ErrServerClosed
	if errors.Is(err, net.ErrClosed) {
		// The listeners were closed above, on purpose; Close closing them
		// again says nothing.
		err = nil
	}
	select {
	case <-drained:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	return err
}

// ActiveSessions is how many sessions are open now.
func (s *Server) ActiveSessions() int { return s.sessions.count() }

// limitTimeout bounds one check of the per-address connection limit.
const limitTimeout = 2 * time.Second

// admit runs first for every connection. It turns away addresses that
// connect too often and connections past the unauthenticated cap, and gives
// the rest HandshakeTimeout to authenticate.
func (s *Server) admit(ctx ssh.Context, conn net.Conn) net.Conn {
	host, _, err := net.SplitHostPort(conn.RemoteAddr().String())
	if err != nil {
		host = conn.RemoteAddr().String()
	}
	// A limiter that cannot be asked lets the connection in (as the API's
	// limits do, server/limits.go): the session still has to authenticate,
	// and the caps on connections still hold. Bounded, since a slow
	// database must not hold up accepting.
	limitCtx, cancel := context.WithTimeout(ctx, limitTimeout)
	ok, _, err := s.limiter.Allow(limitCtx, host)
	cancel()
	if err != nil {
		s.refusals.Warn("ssh connection rate limit unavailable, connection allowed", "error", err)
	} else if !ok {
		s.refusals.Warn("ssh connection rate-limited", "remote", host)
		conn.Close()
		return nil
	}
	if !s.pending.acquire() {
		s.refusals.Warn("ssh connection refused: too many unauthenticated connections", "remote", host)
		conn.Close()
		return nil
	}
	g := &handshakeGate{Conn: conn, release: s.pending.release, untrack: s.conns.remove}
	if !s.conns.add(g) { // shutting down
		g.Close()
		return nil
	}
	// The deadline is a timer of its own, not a read deadline: the
	// connection's idle timeout resets read deadlines on every packet, so a
	// client trickling bytes would never meet one.
	g.timer = time.AfterFunc(s.cfg.HandshakeTimeout, func() {
		if g.expire() {
			s.refusals.Warn("ssh connection closed: no authentication within the handshake timeout",
				"remote", host, "timeout", s.cfg.HandshakeTimeout.String())
		}
	})
	ctx.SetValue(handshakeKey{}, g)
	return g
}

// serverConfig is the per-connection SSH configuration: only algorithms
// that ssh-audit passes without failures or warnings, and a hook that
// marks the connection authenticated.
func (s *Server) serverConfig(ctx ssh.Context) *gossh.ServerConfig {
	g, _ := ctx.Value(handshakeKey{}).(*handshakeGate)
	return &gossh.ServerConfig{
		Config: gossh.Config{
			// curve25519-sha256 brings its @libssh.org alias with it.
			KeyExchanges: []string{gossh.KeyExchangeMLKEM768X25519, gossh.KeyExchangeCurve25519},
			Ciphers: []string{
				gossh.CipherChaCha20Poly1305, gossh.CipherAES256GCM, gossh.CipherAES128GCM,
				gossh.CipherAES256CTR, gossh.CipherAES192CTR, gossh.CipherAES128CTR,
			},
			// Encrypt-then-MAC only; the AEAD ciphers above need none.
			MACs: []string{gossh.HMACSHA256ETM, gossh.HMACSHA512ETM},
		},
		// Called once the client has proved it holds an accepted key, the
		// only way in: the connection is then authenticated. A connection
		// whose deadline has already closed it is refused here, so it
		// cannot race the timer into a session.
		VerifiedPublicKeyCallback: func(_ gossh.ConnMetadata, _ gossh.PublicKey, perms *gossh.Permissions, _ string) (*gossh.Permissions, error) {
			if g != nil && !g.authenticated() {
				return nil, errors.New("handshake timeout")
			}
			return perms, nil
		},
	}
}

// handshakeKey is the context key of a connection's handshakeGate.
type handshakeKey struct{}

// handshakeGate is a connection until it authenticates: it holds a slot of
// the unauthenticated cap, and its timer closes it at the deadline.
type handshakeGate struct {
	net.Conn
	release func()
	// untrack forgets the connection in the server's registry once it
	// closes.
	untrack func(net.Conn)
	timer   *time.Timer

	// mu guards state; every way out of gatePending releases the slot.
	mu    sync.Mutex
	state int // gatePending, then gateAuthenticated or gateClosed
}

const (
	gatePending = iota
	gateAuthenticated
	gateClosed
)

// authenticated ends the pending state unless the deadline came first,
// and reports whether the connection may go on.
func (g *handshakeGate) authenticated() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == gatePending {
		g.state = gateAuthenticated
		g.timer.Stop()
		g.release()
	}
	return g.state == gateAuthenticated
}

// expire closes a connection still pending at the deadline; it reports
// whether it did.
func (g *handshakeGate) expire() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state != gatePending {
		return false
	}
	g.state = gateClosed
	g.release()
	g.Conn.Close()
	return true
}

// Close also gives up the slot of a connection that ends before it
// authenticates.
func (g *handshakeGate) Close() error {
	g.mu.Lock()
	if g.state == gatePending {
		g.state = gateClosed
		if g.timer != nil {
			g.timer.Stop()
		}
		g.release()
	}
	g.mu.Unlock()
	err := g.Conn.Close()
	g.untrack(g)
	return err
}

// pendingCount counts connections that have not authenticated yet.
type pendingCount struct {
	max int

	mu sync.Mutex
	n  int
}

func (c *pendingCount) acquire() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n >= c.max {
		return false
	}
	c.n++
	return true
}

func (c *pendingCount) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n--
}

// sessionRegistry counts sessions against the caps and remembers their
// programs so Shutdown can end them.
type sessionRegistry struct {
	max, maxAnonymous int

	mu        sync.Mutex
	open      int
	anonymous int
	programs  map[*tea.Program]ssh.Session
	closing   bool
}

func newSessionRegistry(max, maxAnonymous int) *sessionRegistry {
	return &sessionRegistry{max: max, maxAnonymous: maxAnonymous, programs: make(map[*tea.Program]ssh.Session)}
}

// slotRefusal says why a session got no slot.
type slotRefusal int

const (
	slotGranted slotRefusal = iota
	slotFull
	slotAnonymousFull
	slotClosing
)

// acquire takes a session slot, from the anonymous share for a key no
// account has.
func (r *sessionRegistry) acquire(anonymous bool) slotRefusal {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closing:
		return slotClosing
	case r.open >= r.max:
		return slotFull
	case anonymous && r.anonymous >= r.maxAnonymous:
		return slotAnonymousFull
	}
	r.open++
	if anonymous {
		r.anonymous++
	}
	return slotGranted
}

func (r *sessionRegistry) release(anonymous bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.open--
	if anonymous {
		r.anonymous--
	}
}

func (r *sessionRegistry) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.open
}

// track remembers a running program; it reports false when the server is
// already closing, and the program should not start.
func (r *sessionRegistry) track(p *tea.Program, sess ssh.Session) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		return false
	}
	r.programs[p] = sess
	return true
}

func (r *sessionRegistry) untrack(p *tea.Program) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.programs, p)
}

// closeAll marks the registry closing and quits every program, so each
// session's handler restores the client's terminal, prints the goodbye and
// ends. Quit blocks until the program takes the message, so each is sent
// from its own goroutine, outside the lock: one busy session must not hold
// up the others' goodbyes, nor sessions that are starting or ending.
func (r *sessionRegistry) closeAll() {
	r.mu.Lock()
	r.closing = true
	programs := make([]*tea.Program, 0, len(r.programs))
	for p := range r.programs {
		programs = append(programs, p)
	}
	r.mu.Unlock()
	for _, p := range programs {
		go p.Quit()
	}
}

func (r *sessionRegistry) isClosing() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closing
}
