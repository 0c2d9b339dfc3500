package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// newTokenCommand groups the commands on API tokens.
func newTokenCommand(streams Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Work on API tokens: create one for a script on this host",
		// Runnable, so that cobra checks its arguments: a mistyped
		// subcommand is an error, not a silent help text.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newTokenCreateCommand(streams))
	return cmd
}

type tokenCreateFlags struct {
	store   storeFlags
	email   string
	name    string
	scopes  string
	expires string
}

func newTokenCreateCommand(streams Streams) *cobra.Command {
	var f tokenCreateFlags
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create an API token of an account and print it",
		Long: "Create a personal access token (API token) of the account with --email, straight in the\n" +
			"database, as an operator bootstrapping a job on the server does: the token alone is\n" +
			"printed on standard output, once (TOKEN=$(anavara token create ...)); what was created is\n" +
			"described on standard error, without the secret. Audited as token.create, via cli.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTokenCreate(cmd, f, streams)
		},
	}
	fs := cmd.Flags()
	f.store.register(fs)
	fs.StringVar(&f.email, "email", "", "the account's email address (required)")
	fs.StringVar(&f.name, "name", "", "a name for the token, e.g. the job's (required)")
	fs.StringVar(&f.scopes, "scopes", "", "scopes separated by commas: "+strings.Join(model.AllScopes, ", ")+" (required)")
	fs.StringVar(&f.expires, "expires", strconv.Itoa(model.DefaultAPITokenDays)+"d", "lifetime in days, 1d to 365d")
	return cmd
}

// parseDays reads --expires: a number of days, written "90d" or "90".
func parseDays(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(s), "d"))
	return n, err == nil
}

func runTokenCreate(cmd *cobra.Command, f tokenCreateFlags, streams Streams) error {
	email := model.NormalizeEmail(f.email)
	name := strings.TrimSpace(f.name)
	var problems []string
	if msg := model.ValidateEmail(email); msg != "" {
		problems = append(problems, "--email: "+msg)
	}
	if msg := model.ValidateAPITokenName(name); msg != "" {
		problems = append(problems, "--name: "+msg)
	}
	asked := model.SplitScopes(f.scopes)
	// Checked as staff here, for the account's status is not known
	// yet; checked again for the account below.
	if _, msg := model.ValidateScopes(asked, true); msg != "" {
		problems = append(problems, "--scopes: "+msg)
	}
	days, ok := parseDays(f.expires)
	if msg := model.ValidateAPITokenDays(days); !ok || msg != "" {
		problems = append(problems, "--expires: want a number of days from 1d to 365d, e.g. 90d")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	ctx := cmd.Context()
	store, _, err := f.store.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	now := func() time.Time { return time.Now().UTC() }
	var row db.APITokenRow
	var secret string
	err = store.Write(ctx, func(q db.Tx) error {
		u, err := q.UserByEmail(ctx, email)
		if errors.Is(err, db.ErrNotFound) {
			return fmt.Errorf("no account has the email %s", email)
		}
		if err != nil {
			return err
		}
		if !u.IsActive {
			return fmt.Errorf("the account %s is deactivated: its tokens would not work", email)
		}
		scopes, msg := model.ValidateScopes(asked, u.IsStaff)
		if msg != "" {
			return errors.New("--scopes: " + msg)
		}
		row, secret, err = auth.NewAPITokens(now).Issue(ctx, q, u.ID, name, scopes, days)
		if errors.Is(err, auth.ErrTooManyAPITokens) {
			return fmt.Errorf("the account already holds %d API tokens that have not expired: revoke one before creating another", model.MaxLiveAPITokens)
		}
		if err != nil {
			return err
		}
		// By no account, from the command line, as createsuperuser's
		// events are.
		e := auth.NewAuditEvent(now(), "cli", "", model.ActionTokenCreate, model.EntityAPIToken, row.ID)
		e.Via, e.SubjectIDs = model.ViaCLI, []string{u.ID}
		return q.InsertAudit(ctx, e)
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(streams.Out, secret)
	fmt.Fprintf(streams.Err, "Created API token %s %q of %s, scopes %s, expires %s.\n",
		row.ID, row.Name, email, strings.Join(row.Scopes, ","), row.Expires.Format(time.RFC3339))
	return nil
}
