//go:build unix

package tui

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockPoll is how often lockFile tries again while another process holds
// the lock. A refresh holds it for one HTTP round trip.
const lockPoll = 10 * time.Millisecond

// lockFile takes an exclusive flock on path (created with mode 0600),
// waiting while another process holds it, at most until ctx is done. The
// kernel drops the lock when the process ends however it ends, so a
// crashed window never blocks the others. It polls with LOCK_NB rather than
// blocking so that the wait can be given up.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, context.Cause(ctx)
		case <-time.After(lockPoll):
		}
	}
}
