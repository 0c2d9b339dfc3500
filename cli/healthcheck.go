package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// healthcheckFlags configure anavara healthcheck.
type healthcheckFlags struct {
	url      string
	httpAddr string
	timeout  time.Duration
}

// newHealthcheckCommand builds the hidden `anavara healthcheck`, which asks
// a running server's /healthz and exits 0 on 200, 1 otherwise: the
// container HEALTHCHECK, where no curl is installed, and the CI smoke test.
func newHealthcheckCommand(streams Streams) *cobra.Command {
	var f healthcheckFlags
	cmd := &cobra.Command{
		Use:    "healthcheck",
		Short:  "Exit 0 when the server's /healthz answers 200, 1 otherwise",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			url := f.url
			if url == "" {
				u, err := healthzURL(f.httpAddr)
				if err != nil {
					return err
				}
				url = u
			}
			return checkHealth(cmd.Context(), url, f.timeout, streams)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.url, "url", "", "URL to check (default: /healthz at the --http address on loopback)")
	fs.StringVar(&f.httpAddr, "http", ":8080", "address the server's HTTP API listens on, as given to serve")
	fs.DurationVar(&f.timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	return cmd
}

// healthzURL is the loopback URL of /healthz for a server listening on addr.
func healthzURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--http %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}

// checkHealth fails unless a GET of url answers 200 within timeout.
func checkHealth(ctx context.Context, url string, timeout time.Duration, streams Streams) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	// The server is local: never go through a proxy from the environment.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s: %s", url, res.Status, body)
	}
	fmt.Fprintf(streams.Out, "healthy: %s\n", url)
	return nil
}
