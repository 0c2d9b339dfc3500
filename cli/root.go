// Package cli is the anavara command line: serve, ssh-serve, tui,
// createsuperuser, migrate, backup, restore, db copy, audit verify and
// version. Every flag falls back to an ANAVARA_* environment variable.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Streams are the standard streams commands use, injectable for tests.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Execute runs the command line with args and returns the exit code.
func Execute(ctx context.Context, args []string, streams Streams) int {
	root := NewRootCommand(streams)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		code := 1
		var exit *exitError
		if errors.As(err, &exit) {
			code, err = exit.code, exit.err
		}
		if err != nil {
			fmt.Fprintln(streams.Err, "anavara:", err)
		}
		return code
	}
	return 0
}

// NewRootCommand builds the anavara command tree.
func NewRootCommand(streams Streams) *cobra.Command {
	root := &cobra.Command{
		Use:           "anavara",
		Short:         "Anavara: terminal-first medical records",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyEnv(cmd.Flags())
		},
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	root.AddCommand(
		newServeCommand(streams),
		newSSHServeCommand(streams),
		newCreateSuperuserCommand(streams),
		newMigrateCommand(streams),
		newVersionCommand(streams),
		newTUICommand(streams),
		newBackupCommand(streams),
		newRestoreCommand(streams),
		newHealthcheckCommand(streams),
		newDBCommand(streams),
		newAuditCommand(streams),
		newExportCommand(streams),
		newTokenCommand(streams),
	)
	return root
}

// EnvName is the environment variable a flag falls back to:
// --data-dir → ANAVARA_DATA_DIR.
func EnvName(flag string) string {
	return "ANAVARA_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// fromEnvAnnotation marks a flag applyEnv set from its environment
// variable: pflag counts such a flag as Changed too, and start-up warnings
// about secrets on the command line must tell the two apart.
const fromEnvAnnotation = "anavara/from-env"

// applyEnv sets every flag not given on the command line from its
// environment variable, when that is set.
func applyEnv(flags *pflag.FlagSet) error {
	var err error
	flags.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" {
			return
		}
		if v, ok := os.LookupEnv(EnvName(f.Name)); ok {
			if serr := flags.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s: %w", EnvName(f.Name), serr)
				return
			}
			if serr := flags.SetAnnotation(f.Name, fromEnvAnnotation, []string{"true"}); serr != nil {
				err = fmt.Errorf("%s: %w", EnvName(f.Name), serr)
			}
		}
	})
	return err
}

// givenOnCommandLine reports whether the flag name was set on the command
// line itself, not from its environment variable.
func givenOnCommandLine(flags *pflag.FlagSet, name string) bool {
	f := flags.Lookup(name)
	return f != nil && f.Changed && f.Annotations[fromEnvAnnotation] == nil
}
