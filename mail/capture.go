package mail

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Capture is an in-memory Mailer for tests, including end-to-end tests of
// other packages that need to read the reset code a user was sent. It is
// safe for concurrent use; the zero value is not usable, call [NewCapture].
type Capture struct {
	mu   sync.Mutex
	msgs []Message
	// taken counts, per recipient, the messages already handed out by
	// WaitFor, so that each call waits for the next unread one.
	taken map[string]int
	// arrived is closed and replaced on every Send to wake all waiters at
	// once; a channel, unlike sync.Cond, can be selected with ctx.Done().
	arrived chan struct{}
}

// NewCapture returns an empty Capture.
func NewCapture() *Capture {
	return &Capture{
		taken:   make(map[string]int),
		arrived: make(chan struct{}),
	}
}

// Send records m. Like a real Mailer it fails if ctx is already done or m
// is malformed, so tests exercise the caller's error handling too.
func (c *Capture) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail: capturing message to %q: %w", m.To, err)
	}
	if err := m.validate(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
	close(c.arrived)
	c.arrived = make(chan struct{})
	return nil
}

// Messages returns a copy of every message sent so far, oldest first.
func (c *Capture) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

// Last returns the most recent message whose To equals to exactly, and
// whether there was one. It does not affect [Capture.WaitFor].
func (c *Capture) Last(to string) (Message, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.msgs) - 1; i >= 0; i-- {
		if c.msgs[i].To == to {
			return c.msgs[i], true
		}
	}
	return Message{}, false
}

// WaitFor returns the oldest message to to (compared exactly) that no
// earlier WaitFor call has returned, blocking until one is sent or ctx is
// done. Reading the mailbox in order means a message sent before WaitFor
// is called is not missed, and a second reset request in the same test
// waits for the second code instead of returning the first again.
func (c *Capture) WaitFor(ctx context.Context, to string) (Message, error) {
	for {
		c.mu.Lock()
		skip := c.taken[to]
		for _, m := range c.msgs {
			if m.To != to {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			c.taken[to]++
			c.mu.Unlock()
			return m, nil
		}
		arrived := c.arrived
		c.mu.Unlock()

		select {
		case <-arrived:
		case <-ctx.Done():
			return Message{}, fmt.Errorf("mail: waiting for message to %q: %w", to, ctx.Err())
		}
	}
}
