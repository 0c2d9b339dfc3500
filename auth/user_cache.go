package auth

import (
	"context"
	"sync"
	"time"

	"github.com/anavara/anavara/db"
)

// UserCacheTTL bounds how long an authenticated user's row is reused. This
// process's own changes to users take effect at once (db.UsersVersion), and
// on PostgreSQL so do other servers' changes, as soon as their announcement
// arrives (db/postgres/listener.go); the bound is for changes made to the
// database without one: another process on a SQLite file, an operator's
// SQL, or an announcement lost on a connection that broke before the
// listener noticed.
const UserCacheTTL = 2 * time.Second

// userCacheMax bounds the number of cached rows; a full cache is emptied and
// refilled rather than tracking recency, which costs one read per user.
const userCacheMax = 10_000

// UserCache keeps the rows of recently authenticated users, so that a
// request with a valid access token does not read the users table each
// time: that read is a tenth of a records list's server time. Cached rows
// carry no password hash.
type UserCache struct {
	store db.Store
	now   func() time.Time

	mu      sync.RWMutex
	entries map[string]cachedUser
}

// cachedUser is a user row and what it was read under.
type cachedUser struct {
	row db.UserRow
	// version is the store's UsersVersion before the row was read: the row
	// is stale as soon as the version moves on.
	version uint64
	read    time.Time
}

// NewUserCache caches the users of store, aged on the clock now.
func NewUserCache(store db.Store, now func() time.Time) *UserCache {
	return &UserCache{store: store, now: now, entries: make(map[string]cachedUser)}
}

// User returns the user with id, as current as the last change to users
// this process made or heard of and at most UserCacheTTL old, or
// db.ErrNotFound. While the store cannot vouch for hearing of changes (its
// listener is not connected), every call reads the row.
func (c *UserCache) User(ctx context.Context, id string) (db.UserRow, error) {
	// The version is read before the row, never after: a change that
	// commits, or is heard of, while the row is being read then moves the
	// version past the one stored with the row, which is stale at the next
	// call rather than taken for current until the TTL ends.
	// Another server's change that committed but whose announcement is
	// still on its way is not missed either: that server answers its
	// client only once this one's listener has acknowledged it, or
	// UserCacheTTL after the commit (db/postgres/announce.go).
	version, cacheable := c.store.UsersVersion()
	if !cacheable {
		row, err := c.store.Read().UserByID(ctx, id)
		if err != nil {
			return db.UserRow{}, err
		}
		row.PasswordHash = ""
		return row, nil
	}
	now := c.now()
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	if ok && e.version == version && now.Sub(e.read) < UserCacheTTL && !now.Before(e.read) {
		return e.row, nil
	}
	row, err := c.store.Read().UserByID(ctx, id)
	if err != nil {
		return db.UserRow{}, err
	}
	row.PasswordHash = ""
	c.mu.Lock()
	if len(c.entries) >= userCacheMax {
		clear(c.entries)
	}
	c.entries[id] = cachedUser{row: row, version: version, read: now}
	c.mu.Unlock()
	return row, nil
}
