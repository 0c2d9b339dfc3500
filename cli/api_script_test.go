package cli_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rogpeppe/go-internal/testscript"
)

// Commands for the API journeys in testdata/api-*.txtar and
// testdata/*-regression.txtar. They drive a real `anavara serve` process
// over HTTP, as a script or curl would.
func apiScriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"serve":     cmdServe,
		"api":       cmdAPI,
		"jsonget":   cmdJSONGet,
		"resetcode": cmdResetCode,
		"forgejwt":  cmdForgeJWT,
	}
}

// lastBody is where api leaves the last response body for jsonget.
const lastBody = "last-response.json"

// cmdServe starts `anavara serve` on free loopback ports over $WORK/data,
// waits until it answers, sets $API to its base URL and stops it with
// SIGTERM when the script ends. Its log, which holds the emails the log
// mailer prints, goes to $WORK/serve.log. Extra arguments are passed on.
//
//	serve [flags...]
func cmdServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! serve")
	}
	// testscript puts its commands on the script's PATH, not this
	// process's, which might hold an installed anavara of another version.
	bin := ""
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		if p := filepath.Join(dir, "anavara"); fileExists(p) {
			bin = p
			break
		}
	}
	if bin == "" {
		ts.Fatalf("anavara not found on the script's PATH")
	}
	logFile, err := os.Create(ts.MkAbs("serve.log"))
	ts.Check(err)
	cmd := exec.Command(bin, append([]string{"serve", "--data-dir", ts.MkAbs("data"),
		"--http", "127.0.0.1:0", "--ssh", "127.0.0.1:0"}, args...)...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = scriptEnv(ts)
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	ts.Check(err)
	ts.Check(cmd.Start())
	ts.Defer(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		logFile.Close()
	})
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if url, ok := strings.CutPrefix(lines.Text(), "API listening on "); ok {
			ts.Setenv("API", url)
			go io.Copy(io.Discard, out)
			return
		}
	}
	ts.Fatalf("serve exited before listening; log:\n%s", ts.ReadFile("serve.log"))
}

// scriptEnv is the script's environment, for processes a command starts.
func scriptEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "WORK"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	return env
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// cmdAPI sends one request to $API and prints "HTTP <status>" and the
// body, which it also keeps for jsonget. A token is sent as a bearer
// token; a body starting with { is JSON, any other is form-encoded.
//
//	api [-token TOKEN] METHOD PATH [BODY]
func cmdAPI(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! api (check the status with stdout)")
	}
	token := ""
	if len(args) >= 2 && args[0] == "-token" {
		token, args = args[1], args[2:]
	}
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: api [-token TOKEN] METHOD PATH [BODY]")
	}
	var body io.Reader
	if len(args) == 3 {
		body = strings.NewReader(args[2])
	}
	req, err := http.NewRequest(args[0], ts.Getenv("API")+args[1], body)
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
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	ts.Check(err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(lastBody), data, 0o600))
	fmt.Fprintf(ts.Stdout(), "HTTP %d\n%s\n", res.StatusCode, data)
}

// cmdJSONGet sets VAR to the string (or number, or boolean) at a
// dot-separated path in the last api response body, failing when there is
// none.
//
//	jsonget PATH VAR
func cmdJSONGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: jsonget PATH VAR")
	}
	var v any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(lastBody)), &v))
	for _, key := range strings.Split(args[0], ".") {
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
			if bytes.Contains(line, []byte(args[0])) {
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

// cmdForgeJWT sets VAR to an access token for USER_ID that the server must
// refuse: unsigned (alg none) or signed with a key that is not the server's.
//
//	forgejwt none|wrongkey USER_ID VAR
func cmdForgeJWT(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: forgejwt none|wrongkey USER_ID VAR")
	}
	now := time.Now()
	claims := jwt.MapClaims{"sub": args[1], "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "ver": 0}
	var signed string
	var err error
	switch args[0] {
	case "none":
		signed, err = jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	case "wrongkey":
		signed, err = jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(bytes.Repeat([]byte("x"), 32))
	default:
		ts.Fatalf("forgejwt: unknown kind %q", args[0])
	}
	ts.Check(err)
	ts.Setenv(args[2], signed)
}
