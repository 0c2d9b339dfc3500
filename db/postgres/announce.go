package postgres

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A change to a user that other servers may have cached is announced on
// usersChannel (listener.go), and PostgreSQL delivers the announcement to
// every listener some time after the commit. Were the writer to answer at
// the commit, a client told "deactivated" could reach another server
// before that server's listener had read the announcement, and be served
// from its stale cache. So every listener acknowledges each announcement
// once it has moved its store's users version on (on a channel of the
// writer's own, named in the payload), and the write returns only when
// every listener connected to the database has acknowledged the
// notification of every user it changed (one each: PostgreSQL folds a
// transaction's identical notifications), or when UsersAnnounceWait has
// passed. Since a cached row is never older
// than auth's cache TTL and the wait is at least that long, a write
// returns only when no server can still serve the user as they were
// before it, even one whose listener went silent.

// ackChannelPrefix begins the name of the channel on which a store hears
// the acknowledgements of its announcements; the store's token ends it.
const ackChannelPrefix = "anavara_users_ack_"

// DefaultUsersAnnounceWait is how long a write that changed a user waits
// at most for every listener's acknowledgement (Options.UsersAnnounceWait):
// auth's UserCacheTTL, after which no server serves a row read before the
// change.
const DefaultUsersAnnounceWait = 2 * time.Second

// listenersNow counts the listeners connected to the database: the
// acknowledgements an announcement made now is owed. Asked inside the
// announcing transaction, before its commit, so that a listener counted
// has (as a rule) started listening before the announcement leaves; one
// that connected but had not yet listened costs the writer the full wait,
// never a stale answer.
const listenersNow = `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`

// announcer hands out the acknowledgement numbers of one store's
// announcements and counts the acknowledgements that arrive.
type announcer struct {
	// token names this store's acknowledgement channel: random, so that
	// two stores, in one process or two, never share one.
	token string
	// wait bounds how long a write waits for its acknowledgements.
	wait time.Duration
	next atomic.Uint64

	mu      sync.Mutex
	pending map[uint64]*ackWait

	// unheard counts the writes that stopped waiting before every
	// listener had acknowledged.
	unheard atomic.Uint64
}

// ackWait is one announcement's count of acknowledgements.
type ackWait struct {
	want, got int
	// all is closed when got reaches want.
	all chan struct{}
}

func newAnnouncer(wait time.Duration) *announcer {
	if wait <= 0 {
		wait = DefaultUsersAnnounceWait
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24 and later).
	return &announcer{token: hex.EncodeToString(b), wait: wait, pending: make(map[uint64]*ackWait)}
}

// channel is the channel this store's acknowledgements arrive on.
func (a *announcer) channel() string { return ackChannelPrefix + a.token }

// begin opens an announcement and returns its number and the payload
// suffix that asks listeners to acknowledge it.
func (a *announcer) begin() (uint64, string) {
	n := a.next.Add(1)
	a.mu.Lock()
	a.pending[n] = &ackWait{all: make(chan struct{})}
	a.mu.Unlock()
	return n, a.token + " " + strconv.FormatUint(n, 10)
}

// expect sets how many acknowledgements announcement n is owed.
func (a *announcer) expect(n uint64, want int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if w := a.pending[n]; w != nil {
		w.want = want
		if w.got >= w.want {
			close(w.all)
		}
	}
}

// ack counts one acknowledgement of announcement n; one of an
// announcement no longer waited for is dropped.
func (a *announcer) ack(n uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	w := a.pending[n]
	if w == nil {
		return
	}
	w.got++
	if w.want > 0 && w.got == w.want {
		close(w.all)
	}
}

// await waits until announcement n has every acknowledgement it is owed,
// or a.wait has passed. The caller forgets n after, as it does an
// announcement it did not commit.
func (a *announcer) await(n uint64) {
	a.mu.Lock()
	w := a.pending[n]
	a.mu.Unlock()
	if w != nil && w.want > 0 {
		t := time.NewTimer(a.wait)
		select {
		case <-w.all:
		case <-t.C:
			a.unheard.Add(1)
		}
		t.Stop()
	}
}

// forget drops announcement n, whether it was waited for or never
// committed: acknowledgements of it that arrive later are dropped.
func (a *announcer) forget(n uint64) {
	a.mu.Lock()
	delete(a.pending, n)
	a.mu.Unlock()
}

// ackRequest reads an announcement's payload, "<user id> <token>
// <number>": the channel and the number to acknowledge it with. ok is
// false for a payload that asks for none (a bare user id, as servers
// before acknowledgements sent) or is not well formed.
func ackRequest(payload string) (channel, number string, ok bool) {
	f := strings.Fields(payload)
	if len(f) != 3 || len(f[1]) != 32 {
		return "", "", false
	}
	if _, err := hex.DecodeString(f[1]); err != nil {
		return "", "", false
	}
	if _, err := strconv.ParseUint(f[2], 10, 64); err != nil {
		return "", "", false
	}
	return ackChannelPrefix + f[1], f[2], true
}
