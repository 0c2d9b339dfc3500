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

	"github.com/anavara/anavara/model"
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
			" (mode 0600), so the next start opens straight on the records; signing out deletes it.",
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
	var creds tui.CredentialStore
	if dir, err := os.UserConfigDir(); err == nil {
		creds = tui.FileCredentials(filepath.Join(dir, "anavara"))
	} else {
		fmt.Fprintln(streams.Err, "anavara: no config directory, sign-in will not be remembered:", err)
	}
	// The key is the URL as the client normalises it, so that
	// "http://host:8080/" and "http://host:8080" share one entry.
	var c *client.Client
	c, err := client.New(client.Options{
		BaseURL: server,
		OnTokens: func(p model.TokenPair) {
			if creds == nil {
				return
			}
			// Keep the newest refresh token; forget it when the server
			// refused it (an empty pair), so the next start asks to sign in.
			if p.RefreshToken != "" {
				_ = creds.Save(c.BaseURL(), p.RefreshToken)
			} else {
				_ = creds.Delete(c.BaseURL())
			}
		},
	})
	if err != nil {
		return fmt.Errorf("--server: %w", err)
	}
	if creds != nil {
		if rt, err := creds.Load(c.BaseURL()); err == nil && rt != "" {
			c.SetTokens(model.TokenPair{RefreshToken: rt})
		}
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
	m := tui.New(tui.Options{Client: c, Renderer: renderer, Credentials: creds, IdleLock: idleLock})
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
