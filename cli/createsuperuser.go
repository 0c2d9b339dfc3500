package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/password"
)

type superuserFlags struct {
	store         storeFlags
	email         string
	firstName     string
	lastName      string
	passwordStdin bool
}

func newCreateSuperuserCommand(streams Streams) *cobra.Command {
	var f superuserFlags
	cmd := &cobra.Command{
		Use:   "createsuperuser",
		Short: "Create a staff account",
		Long: "Create a staff account. The password is asked for twice on the terminal,\n" +
			"or read from the first line of standard input with --password-stdin.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCreateSuperuser(cmd, f, streams)
		},
	}
	fs := cmd.Flags()
	f.store.register(fs)
	fs.StringVar(&f.email, "email", "", "email address (required)")
	fs.StringVar(&f.firstName, "first-name", "", "first name (required)")
	fs.StringVar(&f.lastName, "last-name", "", "last name (required)")
	fs.BoolVar(&f.passwordStdin, "password-stdin", false, "read the password from standard input")
	return cmd
}

func runCreateSuperuser(cmd *cobra.Command, f superuserFlags, streams Streams) error {
	email := model.NormalizeEmail(f.email)
	first, last := strings.TrimSpace(f.firstName), strings.TrimSpace(f.lastName)
	var problems []string
	if msg := model.ValidateEmail(email); msg != "" {
		problems = append(problems, "--email: "+msg)
	}
	if msg := model.ValidateName(first); msg != "" {
		problems = append(problems, "--first-name: "+msg)
	}
	if msg := model.ValidateName(last); msg != "" {
		problems = append(problems, "--last-name: "+msg)
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	owner := model.PasswordOwner{Email: email, FirstName: first, LastName: last}
	pw, err := readNewPassword(f.passwordStdin, owner, streams)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	store, _, err := f.store.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	// The account and its audit event are made as POST /api/users makes
	// them, by no account and from the address "cli", with the default
	// password costs.
	hasher := password.NewHasher(password.HasherOptions{Params: password.DefaultParams})
	a := auth.NewAccount{Email: email, FirstName: first, LastName: last, Password: pw, IsStaff: true}
	u, err := auth.CreateAccount(ctx, store, hasher, a, auth.Actor{IP: "cli", Via: model.ViaCLI}, func() time.Time { return time.Now().UTC() })
	if errors.Is(err, db.ErrConflict) {
		return fmt.Errorf("a user with email %s already exists", email)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(streams.Out, "Staff user %s created (id %s).\n", email, u.ID)
	return nil
}

// passwordTries bounds how often the terminal prompt asks again.
const passwordTries = 3

// readNewPassword reads the password from stdin, failing at once if the
// policy refuses it (a script cannot answer again), or prompts on the
// terminal without echo, twice, and asks again after a refused or
// mistyped password instead of making the operator retype every flag.
func readNewPassword(fromStdin bool, owner model.PasswordOwner, streams Streams) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(streams.In).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", errors.New("no password on standard input")
		}
		if msgs := model.ValidatePassword(pw, owner); len(msgs) > 0 {
			return "", errors.New("password: " + strings.Join(msgs, " "))
		}
		return pw, nil
	}
	in, ok := streams.In.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return "", errors.New("standard input is not a terminal: pass --password-stdin and pipe the password in")
	}
	ask := func(prompt string) (string, error) {
		fmt.Fprint(streams.Err, prompt)
		b, err := term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(streams.Err)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	var problem string
	for range passwordTries {
		first, err := ask("Password: ")
		if err != nil {
			return "", err
		}
		if msgs := model.ValidatePassword(first, owner); len(msgs) > 0 {
			problem = "password: " + strings.Join(msgs, " ")
			fmt.Fprintln(streams.Err, problem+" Try another.")
			continue
		}
		second, err := ask("Password (again): ")
		if err != nil {
			return "", err
		}
		if first != second {
			problem = "the passwords do not match"
			fmt.Fprintln(streams.Err, "The passwords do not match. Try again.")
			continue
		}
		return first, nil
	}
	return "", errors.New(problem)
}
