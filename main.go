// Command anavara is a terminal-first medical-records system: an HTTP API
// over SQLite, a terminal UI and an SSH front end, in one binary.
package main

import (
	"context"
	"os"

	"github.com/anavara/anavara/cli"
)

func main() {
	os.Exit(cli.Execute(context.Background(), os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
