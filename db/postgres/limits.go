package postgres

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/ratelimit"
)

// The rate limits of every process on the database, in the tables of
// migration 00002: each check of a Counter is one atomic upsert of the
// generic cell rate algorithm (ratelimit.Rule.Next's arithmetic, in SQL),
// so two processes' checks of one key are serialised on its row and share
// one budget exactly. Times come from the limit's clock, not the
// database's, so tests can move them (and instances' clocks should agree,
// as NTP keeps them, to well under the limits' intervals).

var _ db.SharedLimits = (*Store)(nil)

// RateLimits returns the store's shared rate limits.
func (s *Store) RateLimits() ratelimit.Store { return s.limits }

// PruneEvery is how many checks (of every limit of one Store) run between
// two prunings of expired rows; PruneBatch bounds the rows one pruning
// deletes from each table, so a pruning stays a short statement whatever
// has accumulated.
const (
	PruneEvery = 1024
	PruneBatch = 1000
)

// rateLimits is the ratelimit.Store of one Store.
type rateLimits struct {
	pool *pgxpool.Pool
	// checks counts checks, for pruning.
	checks atomic.Uint64

	mu     sync.Mutex
	secret []byte // rate_limit_key's, read once
}

func newRateLimits(pool *pgxpool.Pool) *rateLimits { return &rateLimits{pool: pool} }

// Limiter returns the limit name with rule.
func (r *rateLimits) Limiter(name string, rule ratelimit.Rule, now func() time.Time) ratelimit.Counter {
	return &pgCounter{r: r, name: name, rule: rule, now: now}
}

// Backoff returns the back-off name with rule.
func (r *rateLimits) Backoff(name string, rule ratelimit.BackoffRule, now func() time.Time) ratelimit.Throttle {
	return &pgThrottle{r: r, name: name, rule: rule, now: now}
}

// hash is key as it is stored: HMAC-SHA-256 under the database's secret.
func (r *rateLimits) hash(ctx context.Context, key string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.secret == nil {
		var secret []byte
		if err := r.pool.QueryRow(ctx, "SELECT secret FROM rate_limit_key WHERE id = 1").Scan(&secret); err != nil {
			return nil, fmt.Errorf("rate limit key: %w", err)
		}
		if len(secret) < 16 {
			return nil, errors.New("rate limit key: too short")
		}
		r.secret = secret
	}
	m := hmac.New(sha256.New, r.secret)
	m.Write([]byte(key))
	return m.Sum(nil), nil
}

// checked counts a check at now and prunes every PruneEvery checks. A
// failed pruning is left to the next one.
func (r *rateLimits) checked(ctx context.Context, now time.Time) {
	if r.checks.Add(1)%PruneEvery == 0 {
		_, _ = r.Prune(ctx, now)
	}
}

// PruneRateLimits deletes up to PruneBatch expired rows from each table, as of now,
// and returns how many it deleted. Checks call it every PruneEvery checks;
// tests call it directly.
func (s *Store) PruneRateLimits(ctx context.Context, now time.Time) (int64, error) {
	return s.limits.Prune(ctx, now)
}

// Prune is Store.PruneRateLimits.
func (r *rateLimits) Prune(ctx context.Context, now time.Time) (int64, error) {
	// The expiry is checked again on the row deleted: a check may have
	// renewed it since the subquery found it.
	a, err := r.pool.Exec(ctx, `DELETE FROM rate_limits r
		USING (SELECT name, key FROM rate_limits WHERE tat <= $1 LIMIT $2) e
		WHERE r.name = e.name AND r.key = e.key AND r.tat <= $1`, now, PruneBatch)
	if err != nil {
		return 0, fmt.Errorf("prune rate limits: %w", err)
	}
	b, err := r.pool.Exec(ctx, `DELETE FROM rate_limit_backoff r
		USING (SELECT name, key FROM rate_limit_backoff WHERE expires_at <= $1 LIMIT $2) e
		WHERE r.name = e.name AND r.key = e.key AND r.expires_at <= $1`, now, PruneBatch)
	if err != nil {
		return a.RowsAffected(), fmt.Errorf("prune rate limit back-offs: %w", err)
	}
	return a.RowsAffected() + b.RowsAffected(), nil
}

// pgCounter is one ratelimit.Counter in the rate_limits table.
type pgCounter struct {
	r    *rateLimits
	name string
	rule ratelimit.Rule
	now  func() time.Time
}

// allowSQL is ratelimit.Rule.Next on the key's row, in one statement: the
// new arrival time is max(tat, now) + interval, and the event is allowed
// when that minus the window is not after now, in which case it is stored.
// A key without a row is allowed (interval ≤ window) and gets one.
const allowSQL = `INSERT INTO rate_limits AS r (name, key, tat)
	VALUES ($1, $2, $3::timestamptz + $4::bigint * interval '1 microsecond')
	ON CONFLICT (name, key) DO UPDATE SET
		tat = CASE WHEN GREATEST(r.tat, $3) + ($4 - $5::bigint) * interval '1 microsecond' <= $3
			THEN GREATEST(r.tat, $3) + $4 * interval '1 microsecond' ELSE r.tat END,
		allowed = GREATEST(r.tat, $3) + ($4 - $5::bigint) * interval '1 microsecond' <= $3
	RETURNING tat, allowed`

// Allow records an event for key and reports whether it is within the rule.
func (c *pgCounter) Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error) {
	if c.rule.Limit <= 0 {
		return true, 0, nil
	}
	// The database keeps microseconds: so does the arithmetic here.
	now := c.now().Truncate(time.Microsecond)
	h, err := c.r.hash(ctx, key)
	if err != nil {
		return false, 0, err
	}
	interval, window := c.rule.Interval().Microseconds(), c.rule.Window.Microseconds()
	var tat time.Time
	if err := c.r.pool.QueryRow(ctx, allowSQL, c.name, h, now, interval, window).Scan(&tat, &ok); err != nil {
		return false, 0, fmt.Errorf("rate limit %s: %w", c.name, err)
	}
	c.r.checked(ctx, now)
	if ok {
		return true, 0, nil
	}
	// Denied, tat unchanged and after now: the next event is allowed when
	// tat + interval - window is reached.
	retryAfter = tat.Add(time.Duration(interval-window) * time.Microsecond).Sub(now)
	if retryAfter <= 0 { // cannot be, unless clocks disagree
		retryAfter = time.Microsecond
	}
	return false, retryAfter, nil
}

// pgThrottle is one ratelimit.Throttle in the rate_limit_backoff table.
type pgThrottle struct {
	r    *rateLimits
	name string
	rule ratelimit.BackoffRule
	now  func() time.Time
}

// Blocked reports whether key is blocked now and, if so, for how long.
func (b *pgThrottle) Blocked(ctx context.Context, key string) (blocked bool, retryAfter time.Duration, err error) {
	if b.rule.Threshold <= 0 {
		return false, 0, nil
	}
	now := b.now().Truncate(time.Microsecond)
	h, err := b.r.hash(ctx, key)
	if err != nil {
		return false, 0, err
	}
	var until time.Time
	err = b.r.pool.QueryRow(ctx, "SELECT blocked_until FROM rate_limit_backoff WHERE name = $1 AND key = $2", b.name, h).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("rate limit %s: %w", b.name, err)
	}
	if !now.Before(until) {
		return false, 0, nil
	}
	return true, until.Sub(now), nil
}

// Fail records a failure for key: in one transaction that locks the key's
// row (made first if there is none, so that two first failures do not
// both start from nothing), ratelimit.BackoffRule.Fail's step.
func (b *pgThrottle) Fail(ctx context.Context, key string) error {
	if b.rule.Threshold <= 0 {
		return nil
	}
	now := b.now().Truncate(time.Microsecond)
	h, err := b.r.hash(ctx, key)
	if err != nil {
		return err
	}
	err = pgx.BeginTxFunc(ctx, b.r.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		var zero time.Time
		if _, err := tx.Exec(ctx, `INSERT INTO rate_limit_backoff
			(name, key, failures, window_start, blocked_until, strikes, expires_at)
			VALUES ($1, $2, 0, $3, $3, 0, $3) ON CONFLICT (name, key) DO NOTHING`, b.name, h, zero); err != nil {
			return err
		}
		var st ratelimit.BackoffState
		var expires time.Time
		if err := tx.QueryRow(ctx, `SELECT failures, window_start, blocked_until, strikes, expires_at
			FROM rate_limit_backoff WHERE name = $1 AND key = $2 FOR UPDATE`, b.name, h).
			Scan(&st.Failures, &st.WindowStart, &st.BlockedUntil, &st.Strikes, &expires); err != nil {
			return err
		}
		if !now.Before(expires) {
			// Expired (or just made): as if there were no row.
			st = ratelimit.BackoffState{}
		}
		st = b.rule.Fail(st, now)
		_, err := tx.Exec(ctx, `UPDATE rate_limit_backoff
			SET failures = $3, window_start = $4, blocked_until = $5, strikes = $6, expires_at = $7
			WHERE name = $1 AND key = $2`,
			b.name, h, st.Failures, st.WindowStart, st.BlockedUntil, st.Strikes, b.rule.Expires(st))
		return err
	})
	if err != nil {
		return fmt.Errorf("rate limit %s: %w", b.name, err)
	}
	b.r.checked(ctx, now)
	return nil
}

// Clear forgets key's failures and blocks.
func (b *pgThrottle) Clear(ctx context.Context, key string) error {
	h, err := b.r.hash(ctx, key)
	if err != nil {
		return err
	}
	if _, err := b.r.pool.Exec(ctx, "DELETE FROM rate_limit_backoff WHERE name = $1 AND key = $2", b.name, h); err != nil {
		return fmt.Errorf("rate limit %s: %w", b.name, err)
	}
	return nil
}
