package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Build information, set with -ldflags "-X github.com/anavara/anavara/cli.Version=...".
var (
	Version = "dev"
	Commit  = ""
)

// BuildCommit is the commit the binary was built from: the -ldflags value,
// else what the Go toolchain recorded, else "unknown".
func BuildCommit() string {
	if Commit != "" {
		return Commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

func newVersionCommand(streams Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintf(streams.Out, "anavara %s (commit %s, %s)\n", Version, BuildCommit(), runtime.Version())
		},
	}
}
