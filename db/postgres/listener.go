package postgres

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/internal/logthrottle"
)

// usersChannel is the channel on which a write transaction that changes a
// user row the server's cache depends on (the active and staff flags, the
// token version) announces it, with the user's id as payload (users.go).
// PostgreSQL delivers the announcement only if the transaction commits, to
// every session listening in the same database, this process's included.
const usersChannel = "anavara_users"

// ListenerApplicationName is the application_name of the listener's
// connection, by which an operator tells it apart in pg_stat_activity.
const ListenerApplicationName = "anavara-listener"

// The listener's timings. A lost connection is tried again after
// listenerMinBackoff, doubled after each failed attempt up to
// listenerMaxBackoff. A connection quiet for the ping interval (default
// defaultListenerPing, Options.ListenerPing) is pinged, as a peer that
// vanished (a host gone, a cable pulled) sends nothing that would end the
// wait.
const (
	listenerMinBackoff   = 50 * time.Millisecond
	listenerMaxBackoff   = 5 * time.Second
	defaultListenerPing  = 10 * time.Second
	listenerPingTimeout  = 5 * time.Second
	listenerCloseTimeout = 5 * time.Second
	// defaultListenerProbeWait is how long a new connection's probe may
	// take to come back before the connection is given up
	// (Options.ListenerProbeWait): generous, since giving up only costs
	// the cache until the next attempt.
	defaultListenerProbeWait = 5 * time.Second
	// listenerWarnEvery spaces the listener's warnings: it tries again
	// every few seconds, and the log needs to hear of it once in a while.
	listenerWarnEvery = 10 * time.Minute
)

// listener holds one connection of its own, outside the pool (so it takes
// none of the pool's MaxConns from queries, and the pool never hands it to
// a query), on which it LISTENs to usersChannel, moving the store's users
// version on at every announcement. Another process's change to a user so
// reaches this one's cache as soon as the announcement arrives, which
// PostgreSQL sends when the change commits. While it is not listening the
// version reports rows not cacheable.
type listener struct {
	cfg     *pgx.ConnConfig
	version *usersVersion
	// announcer counts the acknowledgements of the store's own
	// announcements, which arrive on its channel.
	announcer *announcer
	// ping is how long the connection may be quiet before it is pinged.
	ping time.Duration
	// probeWait is how long a new connection's probe may take to arrive.
	probeWait time.Duration
	// warn logs what the operator should know, a line per message at most
	// every listenerWarnEvery.
	warn   *logthrottle.Logger
	cancel context.CancelFunc
	// done is closed when the listening goroutine has returned.
	done chan struct{}

	notifications atomic.Uint64
	reconnects    atomic.Uint64
}

// startListener starts listening on a connection made with cfg (a copy,
// named ListenerApplicationName), pinging it after ping of quiet (0:
// defaultListenerPing), until stop. It waits for the first
// attempt to connect and listen, or for ctx to end, so that a store opened
// on a healthy database caches from its first request; a failed attempt is
// retried in the background, and until one succeeds rows are not
// cacheable.
func startListener(ctx context.Context, cfg *pgx.ConnConfig, version *usersVersion, ann *announcer, ping, probeWait time.Duration, logger *slog.Logger) *listener {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if ping <= 0 {
		ping = defaultListenerPing
	}
	if probeWait <= 0 {
		probeWait = defaultListenerProbeWait
	}
	cfg = cfg.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = ListenerApplicationName
	// Its own context, which only stop ends: Open's ctx may be a start-up
	// deadline, and the listener lives as long as the store.
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l := &listener{cfg: cfg, version: version, announcer: ann, ping: ping, probeWait: probeWait,
		warn: logthrottle.New(logger, listenerWarnEvery, time.Now), cancel: cancel, done: make(chan struct{})}
	first := make(chan struct{})
	go l.run(lctx, first)
	select {
	case <-first:
	case <-ctx.Done():
	}
	return l
}

// sendProbe announces a random probe on the store's acknowledgement
// channel from a connection of its own (named ListenerApplicationName +
// "-probe", which writers do not count as a listener), and returns it.
func (l *listener) sendProbe(ctx context.Context) (string, error) {
	b := make([]byte, 16)
	_, _ = crand.Read(b) // crypto/rand.Read never fails (Go 1.24 and later).
	probe := "probe " + hex.EncodeToString(b)
	cfg := l.cfg.Copy()
	cfg.RuntimeParams["application_name"] = ListenerApplicationName + "-probe"
	pctx, cancel := context.WithTimeout(ctx, listenerPingTimeout)
	defer cancel()
	c, err := pgx.ConnectConfig(pctx, cfg)
	if err != nil {
		return "", err
	}
	defer c.Close(context.WithoutCancel(pctx))
	if _, err := c.Exec(pctx, "SELECT pg_notify($1, $2)", l.announcer.channel(), probe); err != nil {
		return "", err
	}
	return probe, nil
}

// stop ends the listening and waits for its goroutine, which closes the
// connection. Calling it again does nothing more.
func (l *listener) stop() {
	l.cancel()
	<-l.done
}

// stats reports the listener's state.
func (l *listener) stats() db.UsersListenerStats {
	_, listening := l.version.load()
	return db.UsersListenerStats{
		Connected:      listening,
		Notifications:  l.notifications.Load(),
		Reconnects:     l.reconnects.Load(),
		Unacknowledged: l.announcer.unheard.Load(),
	}
}

// run listens, and listens again whenever the connection is lost, until
// ctx ends. It closes first once the first attempt is over, whichever way
// it went.
func (l *listener) run(ctx context.Context, first chan<- struct{}) {
	defer close(l.done)
	firstOver := false
	endFirst := func() {
		if !firstOver {
			firstOver = true
			close(first)
		}
	}
	defer endFirst()
	listenedBefore := false
	backoff := listenerMinBackoff
	for {
		listened := l.session(ctx, func() {
			if listenedBefore {
				l.reconnects.Add(1)
			}
			listenedBefore = true
			endFirst()
		})
		endFirst()
		if ctx.Err() != nil {
			return
		}
		if listened {
			backoff = listenerMinBackoff
		}
		// Jittered, so that the servers that lost the database together do
		// not all come back in the same instant; and never none, so that a
		// connection dropped as soon as it is made does not spin.
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if !listened {
			backoff = min(2*backoff, listenerMaxBackoff)
		}
	}
}

// session connects, listens, calls listening, and moves the version on at
// every announcement until the connection fails or ctx ends. It reports
// whether it got as far as listening.
func (l *listener) session(ctx context.Context, listening func()) bool {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return false
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), listenerCloseTimeout)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	// The store's acknowledgements (announce.go) first, so that it hears
	// them by the time it may owe some itself.
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.announcer.channel()}.Sanitize()); err != nil {
		return false
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{usersChannel}.Sanitize()); err != nil {
		return false
	}
	// A LISTEN that succeeded may still hear nothing: behind a pooler in
	// transaction mode it stays with a server connection the pooler hands
	// to other clients. So the listener trusts it only once a probe sent
	// from another connection has come back.
	probe, err := l.sendProbe(ctx)
	if err != nil {
		return false
	}
	probeBy := time.Now().Add(l.probeWait)
	listened := false
	// Deferred after the close, so it runs first: not cacheable before the
	// connection is gone.
	defer func() {
		if listened {
			l.version.setListening(false)
		}
	}()
	for {
		wait := l.ping
		if !listened {
			wait = min(wait, time.Until(probeBy))
		}
		wctx, cancel := context.WithTimeout(ctx, wait)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err == nil && !listened && n.Channel != usersChannel && n.Payload == probe {
			// Listening from here on: every change committed from now is
			// announced, and every row read from now sees what was
			// committed before, while the listener was away.
			listened = true
			l.version.setListening(true)
			listening()
			continue
		}
		if err == nil {
			if n.Channel != usersChannel {
				if number, perr := strconv.ParseUint(n.Payload, 10, 64); perr == nil {
					l.announcer.ack(number)
				}
				continue
			}
			// Any announcement makes every cached row stale, not only the
			// announced user's: coarser than need be, but changes to users
			// are rare next to the reads the cache saves.
			l.notifications.Add(1)
			l.version.bump()
			// Acknowledged only now that the version has moved on: the
			// writer answers its client once every listener has.
			if channel, number, ok := ackRequest(n.Payload); ok {
				actx, cancel := context.WithTimeout(ctx, listenerPingTimeout)
				_, err := conn.Exec(actx, "SELECT pg_notify($1, $2)", channel, number)
				cancel()
				if err != nil {
					return listened
				}
			}
			continue
		}
		if ctx.Err() != nil || conn.IsClosed() || !errors.Is(err, context.DeadlineExceeded) {
			return listened
		}
		if !listened {
			// The probe did not come back in time: this connection does
			// not hear what is announced.
			l.warn.Warn("the database connection that hears other instances' changes to accounts heard nothing: "+
				"account rows are read on every request until it does (is a pooler in transaction mode, "+
				"such as PgBouncer's pool_mode = transaction, between this instance and PostgreSQL? use session mode)",
				"probe_wait", l.probeWait.String())
			return false
		}
		// Quiet for a ping interval; the wait ended without closing the
		// connection, which must still answer to be trusted.
		pctx, cancel := context.WithTimeout(ctx, listenerPingTimeout)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return listened
		}
	}
}
