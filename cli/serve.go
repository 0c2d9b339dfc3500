package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/anavara/anavara/audit"
	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/engines"
	"github.com/anavara/anavara/mail"
	"github.com/anavara/anavara/metrics"
	"github.com/anavara/anavara/netguard"
	"github.com/anavara/anavara/password"
	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/server"
	"github.com/anavara/anavara/sshapp"
)

// serveFlags configure anavara serve.
type serveFlags struct {
	store      storeFlags
	ssh        sshFlags
	serviceTok string
	httpAddr   string
	jwtSecret  string
	accessTTL  time.Duration
	refreshTTL time.Duration
	otpTTL     time.Duration
	mailer     string
	logFormat  string
	shutdown   time.Duration
	metrics    string
	instanceID string
	// httpMaxConns and httpMaxConnsPerAddr cap open API connections in
	// total and per client address.
	httpMaxConns        int
	httpMaxConnsPerAddr int
	// hashConcurrency, hashQueue and hashWait bound password hashing.
	hashConcurrency int
	hashQueue       int
	hashWait        time.Duration
	// trustedProxies and publicURL: see proxySettings.
	trustedProxies string
	publicURL      string
	// secretFlags are the secret-carrying flags given on the command line,
	// which start-up warns about.
	secretFlags []string
}

func newServeCommand(streams Streams) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the API server (migrating the database first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.secretFlags = commandLineSecrets(cmd.Flags(), f.mailer)
			return runServe(cmd.Context(), f, streams)
		},
	}
	fs := cmd.Flags()
	f.store.register(fs)
	f.ssh.register(fs)
	fs.StringVar(&f.serviceTok, "service-token", "", "credential that separate front ends (anavara ssh-serve) present; CURRENT,NEXT accepts both during a rotation (default: random, in-process only; required on PostgreSQL)")
	fs.StringVar(&f.httpAddr, "http", ":8080", "address the HTTP API listens on")
	fs.StringVar(&f.jwtSecret, "jwt-secret", "", "keys signing access tokens, separated by commas, each ID:SECRET or a bare SECRET of at least 32 bytes; the first signs, all verify (default: generated once into the data dir; required on PostgreSQL)")
	fs.DurationVar(&f.accessTTL, "access-ttl", 15*time.Minute, "access token lifetime")
	fs.DurationVar(&f.refreshTTL, "refresh-ttl", 7*24*time.Hour, "refresh token lifetime")
	fs.DurationVar(&f.otpTTL, "otp-ttl", 5*time.Minute, "password-reset code lifetime")
	fs.StringVar(&f.mailer, "mailer", "log", `how email is sent: "log" (print to the server log) or smtp://user:pass@host:port?from=addr (smtps:// for implicit TLS)`)
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.DurationVar(&f.shutdown, "shutdown-timeout", 15*time.Second, "how long shutdown waits for in-flight requests")
	fs.IntVar(&f.httpMaxConns, "http-max-connections", 4096, "most open API connections; more are closed at once (0: no cap)")
	fs.IntVar(&f.httpMaxConnsPerAddr, "http-max-connections-per-address", 256, "most open API connections from one client address (0: no cap)")
	fs.IntVar(&f.hashConcurrency, "hash-concurrency", runtime.NumCPU(), "most password hashes computed at once (each takes 19 MiB while it runs)")
	fs.IntVar(&f.hashQueue, "hash-queue", 0, "most requests waiting for a password-hashing slot; more answer 503 at once (default 64 per slot)")
	fs.DurationVar(&f.hashWait, "hash-wait", 5*time.Second, "how long a request waits for a password-hashing slot before answering 503")
	registerInstanceIDFlag(fs, &f.instanceID)
	fs.StringVar(&f.trustedProxies, "trusted-proxies", "", "reverse proxies in front of the API, as CIDR prefixes or IP addresses separated by commas: only their X-Forwarded-For names the client (for rate limits and the audit log), and the per-address connection cap does not hold them (default none: every header is ignored)")
	fs.StringVar(&f.publicURL, "public-url", "", "URL clients reach the API at, e.g. https://records.example.org (a path prefix allowed): the scheme and host of the absolute links the API answers (default: the listener's address, or a trusted proxy's X-Forwarded-Proto and X-Forwarded-Host)")
	fs.StringVar(&f.metrics, "metrics", "", `address of a separate listener serving Prometheus metrics at /metrics, e.g. 127.0.0.1:9090 ("" disables it)`)
	return cmd
}

func runServe(ctx context.Context, f serveFlags, streams Streams) error {
	logger, err := newLogger(f.logFormat, streams.Err)
	if err != nil {
		return err
	}
	instance, err := instanceID(f.instanceID)
	if err != nil {
		return err
	}
	// Every line carries the instance id, so that one request's lines can
	// be told from another instance's where their logs are gathered.
	logger = logger.With("instance", instance)
	// The settings are checked before anything is created or opened: on
	// PostgreSQL, missing secrets refuse the start without a connection.
	target, err := f.store.target()
	if err != nil {
		return err
	}
	secrets, err := parseServeSecrets(f, target.Engine)
	if err != nil {
		return err
	}
	proxies, err := parseProxySettings(f)
	if err != nil {
		return err
	}
	if err := secureDataDir(logger, f.store.dataDir); err != nil {
		return err
	}
	unlock, err := lockDataDir(f.store.dataDir)
	if err != nil {
		return err
	}
	defer unlock()
	connCaps := []int{f.httpMaxConns}
	if f.ssh.addr != "" {
		connCaps = append(connCaps, f.ssh.maxConns)
	}
	logFileLimit(logger, connCaps...)
	jwtKeys := secrets.jwtKeys
	if jwtKeys == nil {
		secret, err := loadOrCreateSecret(f.store.dataDir, "jwt.key")
		if err != nil {
			return err
		}
		jwtKeys = []auth.JWTKey{{ID: auth.KeyID(secret), Secret: secret}}
	}
	// Key ids are public (every token carries its key's); logging them
	// lets an operator check each step of a rotation.
	keyIDs := make([]string, len(jwtKeys))
	for i, k := range jwtKeys {
		keyIDs[i] = k.ID
	}
	// Neither is secret; logging them shows what the addresses in the
	// audit log and the links can be trusted for.
	logger.Info("client addresses", "trusted_proxies", proxies.String(), "public_url", proxies.publicURL)
	logger.Info("access-token keys", "signing_key_id", jwtKeys[0].ID, "key_ids", strings.Join(keyIDs, ","))
	mailer, err := mail.New(f.mailer, logger)
	if err != nil {
		return fmt.Errorf("--mailer: %w", err)
	}
	logStartupWarnings(logger, f.secretFlags, mailer)
	store, err := engines.Open(ctx, target, engines.Options{Synchronous: f.store.synchronous, Logger: logger})
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			logger.Error("closing database", "error", err)
		}
	}()
	serviceTokens := secrets.serviceTokens
	if serviceTokens == nil {
		tok, err := newServiceToken()
		if err != nil {
			return err
		}
		serviceTokens = []string{tok}
	}
	// The built-in SSH front end sends the first; the API accepts each.
	serviceToken := serviceTokens[0]
	// One recorder counts the decisions of the API's limits and the SSH
	// front end's, for metrics.
	shared := db.RateLimits(store)
	_, inMemory := shared.(ratelimit.Memory)
	if inMemory {
		// This process alone serves the database; limits of one name
		// still share their state in it, so that the built-in SSH front
		// end and the API's check for ssh-serve count one bucket per
		// address.
		shared = ratelimit.NewSharedMemory()
	}
	limits := ratelimit.NewRecorder(shared, !inMemory)
	rawLn, err := net.Listen("tcp", f.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", f.httpAddr, err)
	}
	ln := netguard.Wrap(rawLn, netguard.Options{
		Name: "http", MaxConns: f.httpMaxConns, MaxConnsPerAddr: f.httpMaxConnsPerAddr, Logger: logger,
		ExemptFromPerAddr: proxies.trusted,
	})
	// Everything listening is closed on the way out; closing a listener a
	// server already shut down is harmless.
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	listeners = append(listeners, ln)
	var sshSrv *sshapp.Server
	var sshLn *netguard.Listener
	if f.ssh.addr != "" {
		// Its per-address limit goes with the store, as the API's limits
		// do (server.Config.RateLimits): on PostgreSQL it holds across
		// every serve on the database.
		if sshSrv, err = f.ssh.newSSHServer(f.store.dataDir, loopbackURL(ln.Addr()), proxies.publicURL, serviceToken, limits, logger); err != nil {
			return err
		}
		if sshLn, err = f.ssh.listen(logger); err != nil {
			return err
		}
		listeners = append(listeners, sshLn)
	}
	hasher := password.NewHasher(password.HasherOptions{
		Concurrency: f.hashConcurrency, Queue: f.hashQueue, Wait: f.hashWait,
	})
	readAudit := audit.NewWriter(store, audit.Options{})
	var observer server.RequestObserver
	var metricsSrv *http.Server
	var metricsLn net.Listener
	if f.metrics != "" {
		var m *metrics.Metrics
		if m, metricsSrv, err = newMetricsServer(store, sshSrv, hasher, limits, readAudit, instance, ln, sshLn); err != nil {
			return err
		}
		observer = m
		rawMetricsLn, err := net.Listen("tcp", f.metrics)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", f.metrics, err)
		}
		// Prometheus keeps one connection or two; the cap only stops a
		// flood on a port someone exposed by mistake.
		metricsLn = netguard.Wrap(rawMetricsLn, netguard.Options{Name: "metrics", MaxConns: 64, Logger: logger})
		listeners = append(listeners, metricsLn)
	}
	// The API applies --ssh-connections-per-minute for the ssh-serve
	// front ends that ask it, in the bucket the built-in one uses.
	rules := auth.DefaultLimits
	rules.SSHConnectionsPerIP = f.ssh.connectionRule()
	srv, err := server.New(server.Config{
		JWTKeys: jwtKeys, Limits: rules, AccessTTL: f.accessTTL, RefreshTTL: f.refreshTTL, OTPTTL: f.otpTTL, Logger: logger,
		ServiceTokens: serviceTokens, Metrics: observer,
		Hasher: hasher, RateLimits: limits, ReadAudit: readAudit,
		TrustedProxies: proxies.trusted, PublicURL: proxies.publicURL,
	}, store, mailer)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	serveErr := make(chan error, 3)
	go func() { serveErr <- fmt.Errorf("http server: %w", srv.Serve(ln)) }()
	if sshSrv != nil {
		go func() {
			if err := sshSrv.Serve(sshLn); err != nil {
				serveErr <- fmt.Errorf("ssh server: %w", err)
			}
		}()
		logger.Info("ssh front end is serving", "ssh", sshLn.Addr().String())
		fmt.Fprintf(streams.Out, "SSH listening on %s\n", sshLn.Addr())
	}
	if metricsSrv != nil {
		go func() {
			if err := metricsSrv.Serve(metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("metrics server: %w", err)
			}
		}()
		logger.Info("metrics are served", "metrics", "http://"+metricsLn.Addr().String()+"/metrics")
		fmt.Fprintf(streams.Out, "Metrics listening on http://%s/metrics\n", metricsLn.Addr())
	}
	// The API's line comes last, so whoever waits for it knows every
	// listener is up.
	logger.Info("anavara is serving", "http", "http://"+ln.Addr().String(), "database", target.String())
	fmt.Fprintf(streams.Out, "API listening on http://%s\n", ln.Addr())

	// A listener that fails stops the others too, the same orderly way.
	var runErr error
	select {
	case runErr = <-serveErr:
		logger.Error("serving failed", "error", runErr)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), f.shutdown)
	defer cancel()
	// SSH sessions talk to the API, so they end first, within half the
	// budget: connections that linger (a client holding a connection with
	// no session) must not leave the API none of its own.
	if sshSrv != nil {
		sshCtx, cancelSSH := context.WithTimeout(shutdownCtx, f.shutdown/2)
		err := sshSrv.Shutdown(sshCtx)
		cancelSSH()
		if err != nil {
			logger.Error("ssh shutdown", "error", err)
		}
	}
	shutdownErr := srv.Shutdown(shutdownCtx)
	// Metrics last, so a scrape can watch the shutdown.
	if metricsSrv != nil {
		if err := metricsSrv.Shutdown(shutdownCtx); err != nil {
			logger.Error("metrics shutdown", "error", err)
		}
	}
	if runErr != nil {
		return runErr
	}
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	logger.Info("stopped")
	return nil
}

// fileDescriptorHeadroom is what serve keeps for itself beside its
// connection caps: database files, the log, the listeners.
const fileDescriptorHeadroom = 128

// logFileLimit raises the descriptor limit as far as allowed, logs it, and
// warns when the connection caps could use more descriptors than that:
// the listeners then survive running out (they retry), but the database
// may fail to open a file while they do.
func logFileLimit(logger *slog.Logger, connCaps ...int) {
	soft, hard, err := raiseFileLimit()
	if err != nil {
		logger.Warn("file-descriptor limit", "error", err)
	}
	if soft == 0 {
		return
	}
	logger.Info("file-descriptor limit", "limit", soft, "hard_limit", hard)
	total := 0
	for _, c := range connCaps {
		if c <= 0 {
			logger.Warn("a connection cap is off: a flood of connections can use every file descriptor", "limit", soft)
			return
		}
		total += c
	}
	if uint64(total+fileDescriptorHeadroom) > soft {
		logger.Warn("the connection caps exceed the file-descriptor limit; raise the limit (ulimit -n, LimitNOFILE=, docker --ulimit nofile=) or lower the caps",
			"limit", soft, "connection_caps", total, "headroom", fileDescriptorHeadroom)
	}
}

// newMetricsServer builds the metrics of this process on a registry of its
// own and the HTTP server that exposes them at /metrics, apart from the API.
// sshSrv and sshLn are nil when the SSH front end is off.
func newMetricsServer(store db.Store, sshSrv *sshapp.Server, hasher *password.Hasher, limits *ratelimit.Recorder, readAudit *audit.Writer, instance string, httpLn, sshLn *netguard.Listener) (*metrics.Metrics, *http.Server, error) {
	reg := prometheus.NewRegistry()
	opts := metrics.Options{
		DB: store, Hashing: hasher, RateLimits: limits, ReadAudit: readAudit, Instance: instance,
		Listeners: map[string]metrics.ListenerStats{"http": httpLn},
	}
	if sshSrv != nil {
		opts.SSH = sshSrv
	}
	if sshLn != nil {
		opts.Listeners["ssh"] = sshLn
	}
	m, err := metrics.New(reg, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil {
			return nil, nil, fmt.Errorf("metrics: %w", err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(reg))
	return m, &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, nil
}
