package testenv

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// ProcessIO returns one of the kernel's I/O counters for this process, from
// /proc/self/io: "syscw" counts write system calls, "write_bytes" the bytes
// sent to storage. ok is false where the kernel keeps no such counters
// (anything but Linux).
func ProcessIO(field string) (n int64, ok bool) {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(data)) {
		if v, found := strings.CutPrefix(line, field+": "); found {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// WriteCalls returns how many write system calls this process has made,
// failing the test where the kernel does not count them.
func WriteCalls(tb testing.TB) int64 {
	tb.Helper()
	n, ok := ProcessIO("syscw")
	if !ok {
		tb.Fatal("this kernel does not count write system calls (/proc/self/io)")
	}
	return n
}
