package sshapp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui"
	"github.com/anavara/anavara/tui/client"
)

// commandsHelp lists the commands a session may run instead of the
// terminal UI (ssh host COMMAND).
const commandsHelp = `Commands (ssh -p PORT HOST COMMAND):
  token [--scopes SCOPE,...]   print a 15-minute API access token for this key's account
`

// commands runs the command a client asked for (ssh host token) instead
// of the terminal UI, which needs a PTY; a session without a command goes
// on to the UI. It runs before anything signs the session in, so a
// command costs no sign-in session of its own.
func (s *Server) commands(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		args := sess.Command()
		if len(args) == 0 {
			next(sess)
			return
		}
		var code int
		switch args[0] {
		case "token":
			code = s.tokenCommand(sess, args[1:])
		case "help", "--help", "-h":
			fmt.Fprint(sess, commandsHelp)
		default:
			// One line, as a session without a PTY gets. The name is the
			// client's input: quoted, so that it reaches the terminal as
			// text.
			fmt.Fprintf(sess.Stderr(), "Unknown command %q: the terminal UI needs a PTY (ssh -t), and the one command is token [--scopes SCOPE,...].\n", args[0])
			code = 1
		}
		_ = sess.Exit(code)
	}
}

// tokenCommand prints a fresh access token for the account of the key
// that authenticated the session, narrowed by --scopes, and returns the
// exit status: 0, 1 when no token can be had for the key, 2 for a usage
// error.
func (s *Server) tokenCommand(sess ssh.Session, args []string) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	scopes := fs.String("scopes", "", "comma-separated scopes the token is narrowed to (default: all the account has)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(sess, tokenHelp)
			return 0
		}
		fmt.Fprint(sess.Stderr(), "Usage: token [--scopes SCOPE,...]\n"+tokenHelp)
		return 2
	}
	want := model.SplitScopes(*scopes)
	key := sess.PublicKey()
	if key == nil {
		fmt.Fprintln(sess.Stderr(), "Only an SSH key registered with Anavara gets a token.")
		return 1
	}
	fp := gossh.FingerprintSHA256(key)
	c, err := s.newClient(sess.RemoteAddr())
	if err != nil {
		fmt.Fprintln(sess.Stderr(), "Anavara is misconfigured: "+err.Error())
		return 1
	}
	ctx, cancel := context.WithTimeout(sess.Context(), 10*time.Second)
	defer cancel()
	tok, err := c.SSHToken(ctx, s.cfg.ServiceToken, fp, want)
	var apiErr *client.APIError
	var unreachable *client.UnreachableError
	switch {
	case err == nil:
		s.cfg.Logger.Info("ssh token", "remote", sess.RemoteAddr().String(), "fingerprint", fp, "scopes", strings.Join(tok.Scopes, " "))
		fmt.Fprintln(sess, tok.AccessToken)
		return 0
	case client.IsStatus(err, http.StatusNotFound):
		fmt.Fprintln(sess.Stderr(), "This SSH key is not registered with Anavara: add it to your account (Profile, SSH keys) first.")
	case client.IsStatus(err, http.StatusUnauthorized) && errors.As(err, &apiErr) && strings.Contains(apiErr.Message, "service credential"):
		s.cfg.Logger.Error("ssh token: the API rejected the service token (check --service-token)")
		fmt.Fprintln(sess.Stderr(), "Anavara is misconfigured and cannot issue tokens. Please tell the operator.")
	case client.IsStatus(err, http.StatusUnauthorized):
		fmt.Fprintln(sess.Stderr(), "This account is deactivated. Ask a staff member to reactivate it.")
	case client.IsStatus(err, http.StatusBadRequest) && errors.As(err, &apiErr):
		// The API's own words name the scope, made inert like every
		// server-supplied string that reaches a terminal.
		fmt.Fprintln(sess.Stderr(), "No token: "+tui.CleanLine(apiErr.Error()))
		return 2
	case client.IsStatus(err, http.StatusTooManyRequests):
		fmt.Fprintln(sess.Stderr(), "Too many tokens asked for; try again in a minute.")
	case errors.As(err, &unreachable):
		s.cfg.Logger.Error("ssh token: API unreachable", "error", err)
		fmt.Fprintln(sess.Stderr(), "Anavara is temporarily unavailable. Please try again in a minute.")
	default:
		s.cfg.Logger.Error("ssh token failed", "error", err)
		fmt.Fprintln(sess.Stderr(), "Anavara could not issue a token. Please try again in a minute.")
	}
	return 1
}

// tokenHelp explains the token command.
const tokenHelp = `Prints a new access token for the account this SSH key belongs to, valid 15 minutes,
for a script: curl -H "Authorization: Bearer $(ssh -p PORT HOST token)" ...
  --scopes records:read,records:write   narrow it (records:read records:write users:read
                                        users:write audit:read; default: all the account has)
`
