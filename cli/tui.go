package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/spf13/cobra"

	"github.com/anavara/anavara/tui"
	"github.com/anavara/anavara/tui/client"
)

// DefaultServer is the API the terminal UI talks to when neither --server
// nor ANAVARA_SERVER says otherwise.
const DefaultServer = "http://localhost:8080"

func newTUICommand(streams Streams) *cobra.Command {
	var server string
	var idleLock time.Duration
	cmd := &cobra.Command{
		Use:   "tui",
		Short: "Open the terminal UI against an Anavara server",
		Long: "Open the terminal UI. It talks to the server only over its HTTP API.\n" +
			"After sign-in the refresh token is kept in " + filepath.Join("<config dir>", "anavara", "credentials.json") +
			" (mode 0600), so the next start opens straight on the records; signing out deletes it.\n" +
			"Several windows can share it: a token refresh takes a lock on it, and a window uses a\n" +
			"newer sign-in another window stored instead of refreshing the spent one.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTUI(server, idleLock, streams)
		},
	}
	cmd.Flags().StringVar(&server, "server", DefaultServer, "base URL of the Anavara API (env "+EnvName("server")+")")
	cmd.Flags().DurationVar(&idleLock, "idle-lock", 15*time.Minute,
		"lock the screen after this long without a key press; unlocking asks for the password (0 never locks)")
	return cmd
}

func runTUI(server string, idleLock time.Duration, streams Streams) error {
	var creds *tui.FileStore
	if dir, err := os.UserConfigDir(); err == nil {
		creds = tui.FileCredentials(filepath.Join(dir, "anavara"))
	} else {
		fmt.Fprintln(streams.Err, "anavara: no config directory, sign-in will not be remembered:", err)
	}
	var c *client.Client
	var err error
	if creds != nil {
		// The client keeps the stored pair current itself, under the
		// store's lock, so that several windows share one sign-in; the UI
		// is given no CredentialStore, which would write it after the fact.
		c, err = tui.NewSharedClient(client.Options{BaseURL: server}, creds)
	} else {
		c, err = client.New(client.Options{BaseURL: server})
	}
	if err != nil {
		return fmt.Errorf("--server: %w", err)
	}
	in, out := streams.In, streams.Out
	if in == nil {
		in = os.Stdin
	}
	if out == nil {
		out = os.Stdout
	}
	renderer := lipgloss.DefaultRenderer()
	if f, ok := out.(*os.File); ok && f != os.Stdout {
		renderer = lipgloss.NewRenderer(f)
	}
	m := tui.New(tui.Options{Client: c, Renderer: renderer, IdleLock: idleLock})
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithInput(in), tea.WithOutput(out))
	if idleLock > 0 {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			tick := time.NewTicker(tui.IdleCheckEvery(idleLock))
			defer tick.Stop()
			for {
				select {
				case <-tick.C:
					p.Send(tui.IdleCheck{})
				case <-stop:
					return
				}
			}
		}()
	}
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("terminal UI: %w", err)
	}
	return nil
}
