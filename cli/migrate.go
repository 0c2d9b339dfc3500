package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newMigrateCommand(streams Streams) *cobra.Command {
	var f storeFlags
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations, recount the search words and print the schema version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, target, err := f.open(cmd.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			// Open checks the search's word counts cheaply; migrate, run
			// once an upgrade is done, rebuilds them.
			if err := store.RecountSearchWords(cmd.Context()); err != nil {
				return err
			}
			v, err := store.Version(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(streams.Out, "database %s is at schema version %d\n", target, v)
			return nil
		},
	}
	f.register(cmd.Flags())
	return cmd
}
