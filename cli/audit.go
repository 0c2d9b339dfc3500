package cli

import "github.com/spf13/cobra"

// newAuditCommand groups the commands that work on the audit trail.
func newAuditCommand(streams Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Work on the audit trail: verify its hash chain",
		// Runnable, so that cobra checks its arguments: a mistyped
		// subcommand is an error, not a silent help text.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newAuditVerifyCommand(streams))
	return cmd
}
