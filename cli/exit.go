package cli

import "fmt"

// exitError ends a command with an exit code of its own, for a command
// whose codes mean more than "failed" (audit verify: 1 broken, 2 could not
// check). err, when set, is printed as any command's error is; without it
// the command has said what it had to.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }
