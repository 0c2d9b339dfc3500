//go:build !unix

package cli

// raiseFileLimit has nothing to raise where there is no RLIMIT_NOFILE; a
// zero limit means unknown.
func raiseFileLimit() (soft, hard uint64, err error) { return 0, 0, nil }
