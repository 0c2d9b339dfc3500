package cli_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdEnvFile sets VAR to the first line of FILE, trimmed: how a script
// keeps what a command printed (cp stdout FILE first), as a shell's
// VAR=$(cmd) would.
//
//	envfile VAR FILE
func cmdEnvFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: envfile VAR FILE")
	}
	line, _, _ := strings.Cut(ts.ReadFile(args[1]), "\n")
	ts.Setenv(args[0], strings.TrimSpace(line))
}

// cmdCron calls METHOD PATH of $API N times in a row with the bearer
// TOKEN, as a job run from cron would, failing at the first answer whose
// status is not STATUS.
//
//	cron N STATUS TOKEN METHOD PATH
func cmdCron(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 5 {
		ts.Fatalf("usage: cron N STATUS TOKEN METHOD PATH")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	client := &http.Client{Timeout: 30 * time.Second}
	for i := range n {
		req, err := http.NewRequest(args[3], ts.Getenv("API")+args[4], nil)
		ts.Check(err)
		req.Header.Set("Authorization", "Bearer "+args[2])
		res, err := client.Do(req)
		ts.Check(err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			ts.Fatalf("cron: call %d of %d: HTTP %d, want %d: %s", i+1, n, res.StatusCode, want, body)
		}
	}
}
