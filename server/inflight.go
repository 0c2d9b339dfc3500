package server

import (
	"sync"

	"github.com/gofiber/fiber/v2"
)

// msgShuttingDown answers requests that arrive after Shutdown gave up
// waiting for connections to go idle.
const msgShuttingDown = "The server is shutting down. Try again shortly."

// inflight counts requests inside the handler chain. Fiber's shutdown stops
// waiting for them when its context ends, but the handlers run on, and may
// be writing to the database; Shutdown waits for them through idle before
// it returns, so that its caller can close the database.
type inflight struct {
	mu      sync.Mutex
	n       int
	closing bool
	idle    chan struct{} // closed once closing and n is zero
	// stopping closes when closing begins, for the work a request
	// carries on after its handler returns (a streamed body) to end.
	stopping chan struct{}
}

func newInflight() *inflight {
	return &inflight{idle: make(chan struct{}), stopping: make(chan struct{})}
}

// hold counts, from inside a handler, work that goes on after the handler
// returns, a streamed body: Shutdown waits for release as for a handler.
// stopping closes when Shutdown begins waiting, for that work to end.
func (f *inflight) hold() (release func(), stopping <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// The calling handler is counted, so idle cannot have closed.
	f.n++
	var once sync.Once
	return func() { once.Do(f.finish) }, f.stopping
}

// middleware counts the request while the rest of the chain runs, and
// refuses it with 503 once Shutdown has begun waiting.
func (f *inflight) middleware(c *fiber.Ctx) error {
	f.mu.Lock()
	if f.closing {
		f.mu.Unlock()
		return newError(fiber.StatusServiceUnavailable, msgShuttingDown)
	}
	f.n++
	f.mu.Unlock()
	defer f.finish()
	return c.Next()
}

func (f *inflight) finish() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 && f.closing {
		close(f.idle)
	}
}

// close refuses new requests and returns a channel that closes when the
// last running one has finished. Handlers are bounded by their own work: a
// database wait ends at the busy timeout.
func (f *inflight) close() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closing {
		f.closing = true
		close(f.stopping)
		if f.n == 0 {
			close(f.idle)
		}
	}
	return f.idle
}
