//go:build !linux

package cli_test

import "os/exec"

// dieWithParent is a no-op where the kernel cannot tie a child's life to
// its parent's; the script's deferred kill still stops the server.
func dieWithParent(*exec.Cmd) {}
