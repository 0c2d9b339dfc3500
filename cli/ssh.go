package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/anavara/anavara/netguard"
	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/sshapp"
)

// sshFlags configure the SSH front end in `serve` and `ssh-serve`.
type sshFlags struct {
	addr             string
	allowUnknownKeys bool
	idleTimeout      time.Duration
	maxSessionTime   time.Duration
	maxSessions      int
	maxAnonymous     int
	perIPPerMinute   int
	handshakeTimeout time.Duration
	maxUnauth        int
	maxConns         int
	maxConnsPerAddr  int
}

func (f *sshFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.addr, "ssh", ":2222", `address of the SSH front end ("" disables it)`)
	fs.BoolVar(&f.allowUnknownKeys, "ssh-allow-unknown-keys", true, "let SSH keys no account has open the sign-in screen (false refuses them at the handshake)")
	fs.DurationVar(&f.idleTimeout, "ssh-idle-timeout", 15*time.Minute, "close SSH sessions idle this long")
	fs.DurationVar(&f.maxSessionTime, "ssh-max-session-time", 8*time.Hour, "close any SSH session after this long")
	fs.IntVar(&f.maxSessions, "ssh-max-sessions", 256, "most concurrent SSH sessions")
	fs.IntVar(&f.maxAnonymous, "ssh-max-anonymous-sessions", 0, "most concurrent SSH sessions of keys no account has, the sign-in screen (0: a quarter of --ssh-max-sessions)")
	fs.IntVar(&f.perIPPerMinute, "ssh-connections-per-minute", 30, "new SSH connections allowed per client address per minute (serve: over every front end on the API; ssh-serve: its own first check, before the API's)")
	fs.DurationVar(&f.handshakeTimeout, "ssh-handshake-timeout", 20*time.Second, "close SSH connections that have not authenticated within this long")
	fs.IntVar(&f.maxUnauth, "ssh-max-unauthenticated", 64, "most SSH connections not yet authenticated; more are closed at once")
	fs.IntVar(&f.maxConns, "ssh-max-connections", 1024, "most open SSH connections; more are closed at once (0: no cap)")
	fs.IntVar(&f.maxConnsPerAddr, "ssh-max-connections-per-address", 16, "most open SSH connections from one client address (0: no cap)")
}

// listen opens the SSH listener, guarded: failed accepts (out of file
// descriptors) are retried instead of ending serving, and connections past
// the total and per-address caps are closed at once.
func (f *sshFlags) listen(logger *slog.Logger) (*netguard.Listener, error) {
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", f.addr, err)
	}
	return netguard.Wrap(ln, netguard.Options{
		Name: "ssh", MaxConns: f.maxConns, MaxConnsPerAddr: f.maxConnsPerAddr, Logger: logger,
	}), nil
}

// connectionRule is --ssh-connections-per-minute as a rule.
func (f *sshFlags) connectionRule() ratelimit.Rule {
	return ratelimit.Rule{Limit: f.perIPPerMinute, Window: time.Minute}
}

// newSSHServer builds the SSH front end against the API at apiURL (which
// users reach at publicURL, "" when that is apiURL), its per-address
// connection limit kept in limits: serve's store, or for ssh-serve, which
// has no database, sshapp.APILimits.
func (f *sshFlags) newSSHServer(dataDir, apiURL, publicURL, serviceToken string, limits ratelimit.Store, logger *slog.Logger) (*sshapp.Server, error) {
	hostKey, err := sshapp.LoadOrCreateHostKey(filepath.Join(dataDir, "ssh_host_ed25519_key"))
	if err != nil {
		return nil, err
	}
	return sshapp.New(sshapp.Config{
		HostKeyPEM:           hostKey,
		APIURL:               apiURL,
		PublicAPIURL:         publicURL,
		ServiceToken:         serviceToken,
		AllowUnknownKeys:     f.allowUnknownKeys,
		IdleTimeout:          f.idleTimeout,
		MaxSessionTime:       f.maxSessionTime,
		MaxSessions:          f.maxSessions,
		MaxAnonymousSessions: f.maxAnonymous,
		ConnectionsPerIP:     f.connectionRule(),
		RateLimits:           limits,
		HandshakeTimeout:     f.handshakeTimeout,
		MaxUnauthenticated:   f.maxUnauth,
		Logger:               logger,
	})
}

// newServiceToken is the secret the in-process SSH front end presents to
// the API; it lives only as long as the process.
func newServiceToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("service token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// loopbackURL is the URL at which this process reaches a listener, even
// when it listens on all interfaces.
func loopbackURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		port := 0
		if ok {
			port = tcp.Port
		}
		return fmt.Sprintf("http://127.0.0.1:%d", port)
	}
	return "http://" + tcp.String()
}

type sshServeFlags struct {
	ssh          sshFlags
	apiURL       string
	serviceToken string
	dataDir      string
	logFormat    string
	instanceID   string
}

func newSSHServeCommand(streams Streams) *cobra.Command {
	var f sshServeFlags
	cmd := &cobra.Command{
		Use:   "ssh-serve",
		Short: "Run only the SSH front end, against a remote API",
		Long: "Run only the SSH front end against the API at --api, so SSH front ends scale\n" +
			"apart from the API. --service-token must equal the API server's.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSSHServe(cmd.Context(), f, streams)
		},
	}
	fs := cmd.Flags()
	f.ssh.register(fs)
	fs.StringVar(&f.apiURL, "api", "", "base URL of the Anavara API (required)")
	fs.StringVar(&f.serviceToken, "service-token", "", "service credential shared with the API (required); of CURRENT,NEXT the first is sent")
	fs.StringVar(&f.dataDir, "data-dir", "./anavara-data", "directory holding the SSH host key")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	registerInstanceIDFlag(fs, &f.instanceID)
	return cmd
}

func runSSHServe(ctx context.Context, f sshServeFlags, streams Streams) error {
	if f.apiURL == "" || f.serviceToken == "" {
		return errors.New("--api and --service-token are required")
	}
	// The API accepts each of a rotation's tokens; this front end sends
	// the first.
	serviceTokens, err := parseServiceTokenFlag(f.serviceToken)
	if err != nil {
		return err
	}
	if f.ssh.addr == "" {
		return errors.New("--ssh must name an address")
	}
	logger, err := newLogger(f.logFormat, streams.Err)
	if err != nil {
		return err
	}
	instance, err := instanceID(f.instanceID)
	if err != nil {
		return err
	}
	logger = logger.With("instance", instance)
	// With no database to share, the per-address connection limit is
	// asked of the API, which counts every front end's connections in one
	// bucket (its own --ssh-connections-per-minute); this one's flag is a
	// first check in memory.
	limits, err := sshapp.NewAPILimits(f.apiURL, serviceTokens[0], nil)
	if err != nil {
		return err
	}
	srv, err := f.ssh.newSSHServer(f.dataDir, f.apiURL, "", serviceTokens[0], limits, logger)
	if err != nil {
		return err
	}
	logFileLimit(logger, f.ssh.maxConns)
	ln, err := f.ssh.listen(logger)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fmt.Fprintf(streams.Out, "SSH listening on %s\n", ln.Addr())
	select {
	case err := <-serveErr:
		return fmt.Errorf("ssh server: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
