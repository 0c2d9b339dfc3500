//go:build unix

package cli

import (
	"fmt"
	"syscall"
)

// raiseFileLimit raises the soft limit on open file descriptors to the hard
// limit, since every connection costs one, and returns the limit now in
// effect. Go's runtime already does this on some systems; doing it here
// makes it true everywhere and gives serve a number to log and check its
// connection caps against.
func raiseFileLimit() (soft, hard uint64, err error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, 0, fmt.Errorf("read the file-descriptor limit: %w", err)
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			return uint64(lim.Cur), uint64(lim.Max), fmt.Errorf("raise the file-descriptor limit to %d: %w", lim.Max, err)
		}
		lim = raised
	}
	return uint64(lim.Cur), uint64(lim.Max), nil
}
