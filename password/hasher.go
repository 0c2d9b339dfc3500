package password

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"
)

// ErrBusy means every hashing slot stayed taken for as long as a caller may
// wait, or the queue of waiting callers was full: the caller should answer
// "try again later" rather than add to the load.
var ErrBusy = errors.New("password hashing is at capacity")

// HasherOptions bound how much password hashing runs at once.
type HasherOptions struct {
	// Params are the argon2id costs of new hashes; zero means DefaultParams.
	Params Params
	// Concurrency is how many hashes run at once; default the number of
	// CPUs. Each costs Params.Memory (19 MiB by default) while it runs.
	Concurrency int
	// Queue is how many callers may wait for a slot; more get ErrBusy at
	// once. Default 64 per slot.
	Queue int
	// Wait is how long a caller waits for a slot before ErrBusy; default 5 s.
	Wait time.Duration
}

// Hasher hashes and verifies passwords with at most Concurrency argon2id
// computations at once, so the memory they take is bounded whatever the
// number of concurrent logins: argon2id is memory-hard, and without a bound
// N concurrent requests cost N × 19 MiB. Callers past the bound wait their
// turn in a bounded queue, served in about the order they came. It is safe for
// concurrent use.
type Hasher struct {
	params Params
	wait   time.Duration
	slots  chan struct{}

	mu      sync.Mutex
	waiting int
	queue   int
}

// NewHasher builds a Hasher from opts.
func NewHasher(opts HasherOptions) *Hasher {
	if opts.Params == (Params{}) {
		opts.Params = DefaultParams
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = runtime.NumCPU()
	}
	if opts.Queue <= 0 {
		opts.Queue = 64 * opts.Concurrency
	}
	if opts.Wait <= 0 {
		opts.Wait = 5 * time.Second
	}
	return &Hasher{
		params: opts.Params,
		wait:   opts.Wait,
		slots:  make(chan struct{}, opts.Concurrency),
		queue:  opts.Queue,
	}
}

// Hash returns the PHC-encoded argon2id hash of pw with a fresh salt, once
// a slot is free.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return Hash(pw, h.params)
}

// Verify reports whether pw matches encoded, once a slot is free.
func (h *Hasher) Verify(ctx context.Context, pw, encoded string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	return Verify(pw, encoded)
}

// acquire takes a slot, waiting at most h.wait in the queue.
func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	h.mu.Lock()
	if h.waiting >= h.queue {
		h.mu.Unlock()
		return ErrBusy
	}
	h.waiting++
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.waiting--
		h.mu.Unlock()
	}()
	timer := time.NewTimer(h.wait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-timer.C:
		return ErrBusy
	case <-ctx.Done():
		return ErrBusy
	}
}

func (h *Hasher) release() { <-h.slots }

// InUse is how many hashes run now.
func (h *Hasher) InUse() int { return len(h.slots) }

// Waiting is how many callers wait for a slot now.
func (h *Hasher) Waiting() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.waiting
}
