package cli_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/internal/testenv"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/anavara/anavara/server"
)

// Commands for the API journeys in testdata/api-*.txtar and
// testdata/*-regression.txtar. They drive a real `anavara serve` process
// over HTTP, as a script or curl would.
func apiScriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"serve":     cmdServe,
		"stopserve": cmdStopServe,
		"api":       cmdAPI,
		"jsonget":   cmdJSONGet,
		"resetcode": cmdResetCode,
		"forgejwt":  cmdForgeJWT,
		"flood":     cmdFlood,
		"unflood":   cmdUnflood,
		"waitlog":   cmdWaitLog,
		"perm":      cmdPerm,
		"everyline": cmdEveryLine,
		"sqlexec":   cmdSQLExec,
		"sqlget":    cmdSQLGet,
		"envfile":   cmdEnvFile,
		"cron":      cmdCron,
	}
}

// lastBody is where api leaves the last response body for jsonget.
const lastBody = "last-response.json"

// serveStartTimeout bounds how long serve waits for the server to listen,
// and serveStopTimeout how long stopserve waits for it to exit after
// SIGTERM before killing it.
const (
	serveStartTimeout = 30 * time.Second
	serveStopTimeout  = 30 * time.Second
)

// scriptServer is the `anavara serve` a script started.
type scriptServer struct {
	cmd *exec.Cmd
	// drained closes when the server's stdout has been read to its end,
	// which os/exec requires before Wait.
	drained chan struct{}
	log     *os.File
	stopped bool
	// sshAddr is where its SSH front end listens, if it runs one, and
	// metricsURL where its metrics are served, if they are.
	sshAddr    string
	metricsURL string
}

// serverKey names the script's serverSlot in its testscript values.
type serverKey struct{}

// serverSlot holds the server serve started, for stopserve.
type serverSlot struct{ srv *scriptServer }

// apiScriptSetup gives each script a slot for its server.
// On a PostgreSQL run (ANAVARA_TEST_DATABASE set) it also gives the
// script a fresh PostgreSQL database as $ANAVARA_DATABASE, which every
// anavara command the script runs, serve included, then uses; the
// condition [postgres] is true there.
func apiScriptSetup(env *testscript.Env) error {
	env.Values[serverKey{}] = &serverSlot{}
	env.Values[floodKey{}] = &floodSlot{}
	if testenv.OnPostgres() {
		// testscript's T is the script's *testing.T.
		tb, ok := env.T().(testing.TB)
		if !ok {
			return fmt.Errorf("testscript's T is a %T, not a testing.TB", env.T())
		}
		env.Setenv("ANAVARA_DATABASE", testenv.DatabaseURL(tb))
		// serve refuses PostgreSQL without shared secrets; scripts
		// that test the refusal clear these.
		env.Setenv("ANAVARA_JWT_SECRET", scriptJWTSecret)
		env.Setenv("ANAVARA_SERVICE_TOKEN", scriptServiceToken)
	}
	return nil
}

// scriptJWTSecret and scriptServiceToken are the secrets every script's
// serve gets on a PostgreSQL run, where serve requires them.
const (
	scriptJWTSecret    = "script-jwt-secret-for-postgres-runs-0123456789"
	scriptServiceToken = "script-service-token-for-postgres-runs"
)

// scriptCondition answers the scripts' own conditions: [postgres] on a
// PostgreSQL run.
func scriptCondition(cond string) (bool, error) {
	switch cond {
	case "postgres":
		return testenv.OnPostgres(), nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// cmdServe starts `anavara serve` on free loopback ports over $WORK/data,
// waits until it listens, and sets $API to its base URL ($API_ADDR: host:port;
// $SSH_ADDR: its SSH front end's, empty with --ssh ""). Its log, which
// holds the emails the log mailer prints, goes to $WORK/serve.log. Extra
// arguments are passed on. End the script with stopserve, which checks the
// server's exit; a server still running when the script ends is killed.
// -nofile N starts it with N as its soft and hard limit of open files.
//
// It also sets $SERVE_PID to the server's process id.
//
// "! serve" expects a serve that exits non-zero before it listens (within
// serveStartTimeout), its log going to $WORK/refused.log; one that listens
// instead is killed and the script fails.
//
//	serve [-nofile N] [flags...]
func cmdServe(ts *testscript.TestScript, neg bool, args []string) {
	bin := scriptBinary(ts)
	if neg {
		cmdServeRefused(ts, bin, args)
		return
	}
	logFile, err := os.Create(ts.MkAbs("serve.log"))
	ts.Check(err)
	cmd := serveCommand(ts, bin, args, logFile)
	out, err := cmd.StdoutPipe()
	ts.Check(err)
	ts.Check(cmd.Start())
	srv := &scriptServer{cmd: cmd, drained: make(chan struct{}), log: logFile}
	ts.Defer(func() {
		if !srv.stopped {
			cmd.Process.Kill()
			<-srv.drained
			cmd.Wait()
			logFile.Close()
		}
	})
	// Read stdout until the API's address, then discard the rest; give up
	// (and kill the server) if it does not come in time.
	addr := make(chan string, 1)
	go func() {
		defer close(srv.drained)
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			// serve prints the API's line after every other listener's.
			if a, ok := strings.CutPrefix(lines.Text(), "SSH listening on "); ok {
				srv.sshAddr = a
			}
			if u, ok := strings.CutPrefix(lines.Text(), "Metrics listening on "); ok {
				srv.metricsURL = strings.TrimSuffix(u, "/metrics")
			}
			if url, ok := strings.CutPrefix(lines.Text(), "API listening on "); ok {
				addr <- url
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case url := <-addr:
		ts.Setenv("API", url)
		ts.Setenv("API_ADDR", strings.TrimPrefix(url, "http://"))
		ts.Setenv("SSH_ADDR", srv.sshAddr)
		ts.Setenv("METRICS", srv.metricsURL)
		ts.Setenv("SERVE_PID", strconv.Itoa(cmd.Process.Pid))
		ts.Value(serverKey{}).(*serverSlot).srv = srv
	case <-srv.drained:
		ts.Fatalf("serve exited before listening; log:\n%s", ts.ReadFile("serve.log"))
	case <-time.After(serveStartTimeout):
		ts.Fatalf("serve did not listen within %v; log:\n%s", serveStartTimeout, ts.ReadFile("serve.log"))
	}
}

// scriptBinary finds anavara on the script's PATH: testscript puts its
// commands there, not on this process's, which might hold an installed
// anavara of another version.
func scriptBinary(ts *testscript.TestScript) string {
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		if p := filepath.Join(dir, "anavara"); fileExists(p) {
			return p
		}
	}
	ts.Fatalf("anavara not found on the script's PATH")
	return ""
}

// serveCommand is `anavara serve` on free loopback ports over $WORK/data
// with args (after an optional -nofile N, run under that limit of open
// files), logging to logFile, killed if the test process dies.
func serveCommand(ts *testscript.TestScript, bin string, args []string, logFile *os.File) *exec.Cmd {
	nofile := ""
	if len(args) >= 2 && args[0] == "-nofile" {
		nofile, args = args[1], args[2:]
	}
	argv := append([]string{bin, "serve", "--data-dir", ts.MkAbs("data"),
		"--http", "127.0.0.1:0", "--ssh", "127.0.0.1:0"}, args...)
	if nofile != "" {
		prlimit, err := exec.LookPath("prlimit")
		ts.Check(err)
		argv = append([]string{prlimit, "--nofile=" + nofile + ":" + nofile, "--"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = scriptEnv(ts)
	cmd.Stderr = logFile
	dieWithParent(cmd)
	return cmd
}

// cmdServeRefused runs a serve that must exit non-zero without listening.
func cmdServeRefused(ts *testscript.TestScript, bin string, args []string) {
	logFile, err := os.Create(ts.MkAbs("refused.log"))
	ts.Check(err)
	defer logFile.Close()
	cmd := serveCommand(ts, bin, args, logFile)
	out, err := cmd.StdoutPipe()
	ts.Check(err)
	ts.Check(cmd.Start())
	listened := make(chan bool, 1)
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), "API listening on ") {
				listened <- true
				io.Copy(io.Discard, out)
				return
			}
		}
		listened <- false
	}()
	select {
	case ok := <-listened:
		if ok {
			cmd.Process.Kill()
			cmd.Wait()
			ts.Fatalf("serve started listening; want it refused")
		}
	case <-time.After(serveStartTimeout):
		cmd.Process.Kill()
		cmd.Wait()
		ts.Fatalf("serve neither listened nor exited within %v; want it refused at once", serveStartTimeout)
	}
	if err := cmd.Wait(); err == nil {
		ts.Fatalf("serve exited 0 without listening; want a non-zero exit")
	}
}

// cmdStopServe stops the server serve started with SIGTERM, as an operator
// would, and fails unless it exits 0 within serveStopTimeout with nothing
// logged at ERROR level and no data race reported. With -kill it sends
// SIGKILL instead, a crash, and checks nothing of the exit.
//
//	stopserve [-kill]
func cmdStopServe(ts *testscript.TestScript, neg bool, args []string) {
	srv := ts.Value(serverKey{}).(*serverSlot).srv
	kill := len(args) == 1 && args[0] == "-kill"
	if neg || (len(args) != 0 && !kill) || srv == nil {
		ts.Fatalf("usage: stopserve [-kill], after serve")
	}
	srv.stopped = true
	if kill {
		ts.Check(srv.cmd.Process.Kill())
		<-srv.drained
		srv.cmd.Wait()
		srv.log.Close()
		return
	}
	ts.Check(srv.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-srv.drained:
	case <-time.After(serveStopTimeout):
		srv.cmd.Process.Kill()
		<-srv.drained
		srv.cmd.Wait()
		srv.log.Close()
		ts.Fatalf("serve still running %v after SIGTERM; killed", serveStopTimeout)
	}
	err := srv.cmd.Wait()
	srv.log.Close()
	log := ts.ReadFile("serve.log")
	if err != nil {
		ts.Fatalf("serve exited with %v; log:\n%s", err, log)
	}
	for _, bad := range []string{"level=ERROR", "DATA RACE", "panic:"} {
		if strings.Contains(log, bad) {
			ts.Fatalf("serve logged %q; log:\n%s", bad, log)
		}
	}
}

// scriptEnv is the script's environment for the server it starts: what
// testscript gives every command it runs, and the ANAVARA_* secrets a
// script may set with env to pass them the way production should.
func scriptEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "WORK", "GORACE", "GOCOVERDIR", "GOTRACEBACK",
		"ANAVARA_JWT_SECRET", "ANAVARA_SERVICE_TOKEN", "ANAVARA_MAILER", "ANAVARA_DATABASE",
		"ANAVARA_TRUSTED_PROXIES", "ANAVARA_PUBLIC_URL"} {
		if v := ts.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// cmdPerm fails unless each FILE's permission bits are MODE (octal).
//
//	perm MODE FILE...
func cmdPerm(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: perm MODE FILE...")
	}
	var want os.FileMode
	if _, err := fmt.Sscanf(args[0], "%o", &want); err != nil {
		ts.Fatalf("perm: bad mode %q", args[0])
	}
	for _, name := range args[1:] {
		info, err := os.Stat(ts.MkAbs(name))
		ts.Check(err)
		if got := info.Mode().Perm(); got != want {
			ts.Fatalf("%s: mode %04o, want %04o", name, got, want)
		}
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// cmdAPI sends one request to $API and prints "HTTP <status>" and the
// body, which it also keeps for jsonget. A token is sent as a bearer
// token; a body starting with { is JSON, any other is form-encoded. -from
// sends it from another loopback address, as another client would; -service
// sends TOKEN as the service credential (X-Service-Token), as an SSH front
// end does. Each -header NAME:VALUE adds a header (Host:NAME sets the
// request's host), as a proxy or a forger would.
//
//	api [-base URL] [-header NAME:VALUE]... [-from IP] [-service TOKEN] [-token TOKEN] METHOD PATH [BODY]
//
// The options come in any order.
func cmdAPI(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! api (check the status with stdout)")
	}
	var headers [][2]string
	base, from, service, token := ts.Getenv("API"), "", "", ""
	for len(args) >= 2 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-base":
			base = args[1]
		case "-header":
			name, value, ok := strings.Cut(args[1], ":")
			if !ok {
				ts.Fatalf("api: -header %q: want NAME:VALUE", args[1])
			}
			headers = append(headers, [2]string{name, value})
		case "-from":
			from = args[1]
		case "-service":
			service = args[1]
		case "-token":
			token = args[1]
		default:
			ts.Fatalf("api: unknown option %s", args[0])
		}
		args = args[2:]
	}
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: api [-base URL] [-from IP] [-service TOKEN] [-token TOKEN] [-header NAME:VALUE]... METHOD PATH [BODY]")
	}
	var body io.Reader
	if len(args) == 3 {
		body = strings.NewReader(args[2])
	}
	req, err := http.NewRequest(args[0], base+args[1], body)
	ts.Check(err)
	if len(args) == 3 {
		if strings.HasPrefix(args[2], "{") {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if service != "" {
		req.Header.Set(server.HeaderServiceToken, service)
	}
	for _, h := range headers {
		if strings.EqualFold(h[0], "Host") {
			req.Host = h[1]
			continue
		}
		req.Header.Add(h[0], h[1])
	}
	client := &http.Client{Timeout: 30 * time.Second}
	if from != "" {
		dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
		client.Transport = &http.Transport{DialContext: dialer.DialContext}
	}
	res, err := client.Do(req)
	ts.Check(err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(lastBody), data, 0o600))
	fmt.Fprintf(ts.Stdout(), "HTTP %d\n%s\n", res.StatusCode, data)
}

// cmdJSONGet sets VAR to the string (or number, or boolean) at a
// dot-separated path in the last api response body (a number indexes an
// array), failing when there is none.
//
//	jsonget PATH VAR
func cmdJSONGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: jsonget PATH VAR")
	}
	var v any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(lastBody)), &v))
	for _, key := range strings.Split(args[0], ".") {
		// A number indexes an array: results.0.id.
		if a, ok := v.([]any); ok {
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(a) {
				ts.Fatalf("jsonget %s: no element %q in an array of %d", args[0], key, len(a))
			}
			v = a[i]
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			ts.Fatalf("jsonget %s: %q is not inside an object", args[0], key)
		}
		if v, ok = m[key]; !ok {
			ts.Fatalf("jsonget %s: no %q", args[0], key)
		}
	}
	switch v := v.(type) {
	case string:
		ts.Setenv(args[1], v)
	case float64, bool:
		ts.Setenv(args[1], fmt.Sprint(v))
	default:
		ts.Fatalf("jsonget %s: %v is not a string, number or boolean", args[0], v)
	}
}

// resetCodeLine finds a reset code in an email the log mailer printed.
var resetCodeLine = regexp.MustCompile(`reset code is (\d{6})`)

// cmdResetCode waits up to 10 s for the n-th (1-based) reset code mailed to
// EMAIL to appear in serve.log and sets VAR to it.
//
//	resetcode EMAIL N VAR
func cmdResetCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: resetcode EMAIL N VAR")
	}
	var n int
	if _, err := fmt.Sscan(args[1], &n); err != nil || n < 1 {
		ts.Fatalf("resetcode: bad N %q", args[1])
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		log, err := os.ReadFile(ts.MkAbs("serve.log"))
		ts.Check(err)
		var codes []string
		// The log mailer writes each email as one log record naming its
		// recipient; only codes in records for EMAIL count.
		for _, line := range bytes.Split(log, []byte("\n")) {
			if bytes.Contains(line, []byte("to="+args[0]+" ")) {
				if m := resetCodeLine.FindSubmatch(line); m != nil {
					codes = append(codes, string(m[1]))
				}
			}
		}
		if len(codes) >= n {
			ts.Setenv(args[2], codes[n-1])
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("resetcode: %d codes for %s in serve.log after 10 s, want %d", len(codes), args[0], n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdForgeJWT sets VAR to an access token for USER_ID with every claim a
// real one has: signed with the server's own signing key (the first of
// $ANAVARA_JWT_SECRET, or $WORK/data/jwt.key) and naming it in its kid
// header, the control that must work; the same without a kid (nokid), or
// naming a key the server does not hold (unknownkid); unsigned (alg none);
// or signed with another key under the right kid (wrongkey). All but the
// first must be refused.
//
//	forgejwt rightkey|nokid|unknownkid|none|wrongkey USER_ID VAR
func cmdForgeJWT(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: forgejwt rightkey|nokid|unknownkid|none|wrongkey USER_ID VAR")
	}
	now := time.Now()
	claims := jwt.MapClaims{"iss": "anavara", "sub": args[1], "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"jti": "forged-" + args[0], "ver": 0}
	key := scriptSigningKey(ts)
	hs256 := func(kid string, secret []byte) (string, error) {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		return tok.SignedString(secret)
	}
	var signed string
	var err error
	switch args[0] {
	case "rightkey":
		signed, err = hs256(key.ID, key.Secret)
	case "nokid":
		signed, err = hs256("", key.Secret)
	case "unknownkid":
		signed, err = hs256("not-"+key.ID, key.Secret)
	case "none":
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, claims)
		tok.Header["kid"] = key.ID
		signed, err = tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	case "wrongkey":
		signed, err = hs256(key.ID, bytes.Repeat([]byte("x"), 32))
	default:
		ts.Fatalf("forgejwt: unknown kind %q", args[0])
	}
	ts.Check(err)
	ts.Setenv(args[2], signed)
}

// scriptSigningKey is the key the script's server signs with: the first
// of $ANAVARA_JWT_SECRET when set, else the one generated into
// $WORK/data/jwt.key.
func scriptSigningKey(ts *testscript.TestScript) auth.JWTKey {
	if setting := ts.Getenv("ANAVARA_JWT_SECRET"); setting != "" {
		keys, err := auth.ParseJWTKeys(setting)
		ts.Check(err)
		return keys[0]
	}
	secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(ts.ReadFile("data/jwt.key")))
	ts.Check(err)
	return auth.JWTKey{ID: auth.KeyID(secret), Secret: secret}
}

// cmdEveryLine fails unless every non-empty line of FILE matches PATTERN
// (a Go regular expression), naming the first that does not; with ! it
// fails unless some line does not.
//
//	everyline PATTERN FILE
func cmdEveryLine(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: everyline PATTERN FILE")
	}
	re, err := regexp.Compile(args[0])
	ts.Check(err)
	lines := 0
	for _, line := range strings.Split(ts.ReadFile(args[1]), "\n") {
		if line == "" {
			continue
		}
		lines++
		if !re.MatchString(line) {
			if neg {
				return
			}
			ts.Fatalf("%s: line %q does not match %q", args[1], line, args[0])
		}
	}
	if neg {
		ts.Fatalf("%s: every line matches %q", args[1], args[0])
	}
	if lines == 0 {
		ts.Fatalf("%s: no lines", args[1])
	}
}
