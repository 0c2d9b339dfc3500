package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/anavara/anavara/db/postgres/pgtest"
	"github.com/anavara/anavara/internal/testenv"
)

// Shared settings of the instances in TestMultiInstance, as an operator
// would give every instance the same ones.
const (
	multiJWTSecret    = "k1:multi-instance-key-0123456789abcdef0123456789"
	multiServiceToken = "multi-instance-service-token-0123456789abcdef"
	multiPublicURL    = "https://anavara.example.org"
)

// instance is one running anavara process of TestMultiInstance.
type instance struct {
	name   string
	url    string // the API's base URL, for serve
	cmd    *exec.Cmd
	logs   *testenv.LockedBuffer
	exited chan struct{}
}

// startInstance runs `anavara ARGS` with env added to this process's
// environment, stopped with SIGTERM when the test ends (unless killed
// first); for serve it waits for /healthz.
func startInstance(t *testing.T, bin, name string, env []string, args ...string) *instance {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	logs := &testenv.LockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{name: name, cmd: cmd, logs: logs, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(in.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-in.exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-in.exited
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, logs.String())
		}
	})
	return in
}

// waitHealthy waits until the instance's /healthz answers 200.
func (in *instance) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := httpClient.Get(in.url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-in.exited:
			t.Fatalf("%s exited:\n%s", in.name, in.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become healthy:\n%s", in.name, in.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitLog waits until the instance's output matches re.
func (in *instance) waitLog(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := re.FindStringSubmatch(in.logs.String()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never logged %s:\n%s", in.name, re, in.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// apiCall is one request of TestMultiInstance.
type apiCall struct {
	method, url, token string
	body               any
	header             map[string]string
}

// do sends c and decodes a JSON answer into out (when not nil), returning
// the status and the response headers.
func (c apiCall) do(t *testing.T, out any) (int, http.Header) {
	t.Helper()
	var body io.Reader
	if c.body != nil {
		data, err := json.Marshal(c.body)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequest(c.method, c.url, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.url, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && len(data) > 0 && res.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", c.method, c.url, data, err)
		}
	}
	return res.StatusCode, res.Header
}

// tokens is the part of an auth answer the journey uses.
type tokens struct {
	AccessToken string `json:"access_token"`
	User        struct {
		ID string `json:"id"`
	} `json:"user"`
}

// TestMultiInstance is issue 13's journey over real processes: one
// PostgreSQL database, two `anavara serve` (same secrets, different ports,
// no SSH of their own) and one `anavara ssh-serve` pointing at the first,
// every request alternating between the two APIs. It ends by killing one
// instance with SIGKILL during concurrent creates: every create answered
// 201 must be readable through the other.
func TestMultiInstance(t *testing.T) {
	if !testenv.OnPostgres() {
		t.Skip("needs PostgreSQL: set " + pgtest.EnvVar + " (.ci/run's PostgreSQL phase runs it)")
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	database := pgtest.EmptyURL(t)
	env := []string{
		"ANAVARA_DATABASE=" + database,
		"ANAVARA_JWT_SECRET=" + multiJWTSecret,
		"ANAVARA_SERVICE_TOKEN=" + multiServiceToken,
		"ANAVARA_PUBLIC_URL=" + multiPublicURL,
	}
	// The database is migrated once, as an operator would before starting
	// the instances.
	if out, err := exec.Command(bin, "migrate", "--database", database).CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	var apis [2]*instance
	for i, name := range []string{"api-a", "api-b"} {
		addr := freeAddr(t)
		apis[i] = startInstance(t, bin, name, env, "serve", "--data-dir", filepath.Join(dir, name),
			"--http", addr, "--ssh", "", "--instance-id", name)
		apis[i].url = "http://" + addr
	}
	for _, in := range apis {
		in.waitHealthy(t)
	}
	a, b := apis[0], apis[1]
	// on alternates between the instances, request by request.
	turn := 0
	on := func() *instance { turn++; return apis[turn%2] }

	// A staff account, made with the command as an operator would.
	admin := exec.Command(bin, "createsuperuser", "--database", database, "--email", "sam@example.org",
		"--first-name", "Sam", "--last-name", "Staff", "--password-stdin")
	admin.Env = append(os.Environ(), env...)
	admin.Stdin = strings.NewReader(password + "\n")
	if out, err := admin.CombinedOutput(); err != nil {
		t.Fatalf("createsuperuser: %v\n%s", err, out)
	}
	var staff tokens
	if st, _ := (apiCall{method: "POST", url: on().url + "/api/auth/login",
		body: map[string]string{"email": "sam@example.org", "password": password}}).do(t, &staff); st != http.StatusOK {
		t.Fatalf("staff login: %d", st)
	}

	signupOn := func(in *instance, email string) tokens {
		t.Helper()
		var tk tokens
		if st, _ := (apiCall{method: "POST", url: in.url + "/api/auth/signup", body: map[string]string{
			"first_name": "Pat", "last_name": "Ient", "email": email, "password": password}}).do(t, &tk); st != http.StatusCreated {
			t.Fatalf("signup %s on %s: %d", email, in.name, st)
		}
		return tk
	}

	t.Run("a token from A works on B", func(t *testing.T) {
		pat := signupOn(a, "ann@example.org")
		var me struct {
			Email string `json:"email"`
		}
		if st, _ := (apiCall{method: "GET", url: b.url + "/api/users/me", token: pat.AccessToken}).do(t, &me); st != http.StatusOK || me.Email != "ann@example.org" {
			t.Fatalf("GET /api/users/me on B with A's token: %d %q", st, me.Email)
		}
	})

	t.Run("wrong logins hit the limit once over both instances", func(t *testing.T) {
		signupOn(on(), "guess@example.org")
		var statuses []int
		for i := 0; i < 12; i++ {
			st, _ := (apiCall{method: "POST", url: on().url + "/api/auth/login",
				body: map[string]string{"email": "guess@example.org", "password": "not-the-password-" + fmt.Sprint(i)}}).do(t, nil)
			statuses = append(statuses, st)
		}
		// The per-address-and-account limit is 10 a minute: 10 answers
		// 401 and the rest 429, over both instances together (twice 10
		// if each instance counted on its own).
		for i, st := range statuses {
			want := http.StatusUnauthorized
			if i >= 10 {
				want = http.StatusTooManyRequests
			}
			if st != want {
				t.Fatalf("wrong logins alternating A and B answered %v; want 10 × 401 then 429", statuses)
			}
		}
	})

	t.Run("deactivation through A is refused on B at once", func(t *testing.T) {
		pat := signupOn(a, "dee@example.org")
		// Warm B's cache of the account.
		for i := 0; i < 3; i++ {
			if st, _ := (apiCall{method: "GET", url: b.url + "/api/users/me", token: pat.AccessToken}).do(t, nil); st != http.StatusOK {
				t.Fatalf("GET /api/users/me on B: %d", st)
			}
		}
		if st, _ := (apiCall{method: "PATCH", url: a.url + "/api/users/" + pat.User.ID, token: staff.AccessToken,
			body: map[string]any{"is_active": false}}).do(t, nil); st != http.StatusOK {
			t.Fatalf("deactivate through A: %d", st)
		}
		if st, _ := (apiCall{method: "GET", url: b.url + "/api/users/me", token: pat.AccessToken}).do(t, nil); st != http.StatusUnauthorized {
			t.Fatalf("the very next request on B: %d, want 401", st)
		}
	})

	t.Run("forgot-password through A, reset through B", func(t *testing.T) {
		signupOn(on(), "rita@example.org")
		if st, _ := (apiCall{method: "POST", url: a.url + "/api/auth/forgot-password",
			body: map[string]string{"email": "rita@example.org"}}).do(t, nil); st != http.StatusOK {
			t.Fatalf("forgot-password on A: %d", st)
		}
		// Either instance's worker may send it: look in both logs.
		code := waitResetCode(t, "rita@example.org", a, b)
		if st, _ := (apiCall{method: "POST", url: b.url + "/api/auth/reset-password", body: map[string]string{
			"email": "rita@example.org", "otp_code": code, "password": "Brand-New-Lantern-31"}}).do(t, nil); st != http.StatusOK {
			t.Fatalf("reset-password on B: %d", st)
		}
		if st, _ := (apiCall{method: "POST", url: a.url + "/api/auth/login", body: map[string]string{
			"email": "rita@example.org", "password": "Brand-New-Lantern-31"}}).do(t, nil); st != http.StatusOK {
			t.Fatalf("login with the new password on A: %d", st)
		}
	})

	treated := time.Now().UTC().AddDate(0, 0, 10).Format("2006-01-02")
	newRecord := func(name string) map[string]string {
		return map[string]string{"patient_name": name, "date_of_birth": "1980-01-01", "date_of_treatment": treated, "doctor": "Dr. Multi"}
	}
	pat := signupOn(on(), "max@example.org")

	t.Run("two PATCHes with one If-Match: one 200, one 412", func(t *testing.T) {
		var rec struct {
			ID string `json:"id"`
		}
		st, h := (apiCall{method: "POST", url: on().url + "/api/medical-records", token: pat.AccessToken, body: newRecord("Max Multi")}).do(t, &rec)
		if st != http.StatusCreated {
			t.Fatalf("create: %d", st)
		}
		etag := h.Get("ETag")
		if etag == "" {
			st, h = (apiCall{method: "GET", url: on().url + "/api/medical-records/" + rec.ID, token: pat.AccessToken}).do(t, nil)
			etag = h.Get("ETag")
		}
		if etag == "" {
			t.Fatalf("no ETag on the record (status %d)", st)
		}
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i, in := range apis {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i], _ = (apiCall{method: "PATCH", url: in.url + "/api/medical-records/" + rec.ID, token: pat.AccessToken,
					body: map[string]string{"doctor": "Dr. " + in.name}, header: map[string]string{"If-Match": etag}}).do(t, nil)
			}()
		}
		wg.Wait()
		if !(statuses[0] == 200 && statuses[1] == 412) && !(statuses[0] == 412 && statuses[1] == 200) {
			t.Fatalf("concurrent PATCHes with one If-Match on A and B: %v, want one 200 and one 412", statuses)
		}
	})

	t.Run("forged Host headers from an untrusted client never shape next", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			if st, _ := (apiCall{method: "POST", url: on().url + "/api/medical-records", token: pat.AccessToken, body: newRecord("Max Multi")}).do(t, nil); st != http.StatusCreated {
				t.Fatalf("create: %d", st)
			}
		}
		for _, in := range apis {
			var page struct {
				Next *string `json:"next"`
			}
			st, _ := (apiCall{method: "GET", url: in.url + "/api/medical-records?page_size=1", token: pat.AccessToken, header: map[string]string{
				"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "javascript"}}).do(t, &page)
			if st != http.StatusOK || page.Next == nil {
				t.Fatalf("list on %s: %d, next %v", in.name, st, page.Next)
			}
			if !strings.HasPrefix(*page.Next, multiPublicURL+"/api/medical-records?") || strings.Contains(*page.Next, "evil") {
				t.Fatalf("next on %s = %q, want it under --public-url %s", in.name, *page.Next, multiPublicURL)
			}
		}
	})

	t.Run("an SSH session is audited with the SSH client's address", func(t *testing.T) {
		sshAddr := freeAddr(t)
		front := startInstance(t, bin, "ssh-serve", env, "ssh-serve", "--api", a.url, "--ssh", sshAddr,
			"--data-dir", filepath.Join(dir, "ssh-serve"), "--instance-id", "ssh-1")
		front.waitLog(t, regexp.MustCompile(`SSH listening on `))
		keyPath := filepath.Join(dir, "id_ed25519")
		line := writeKeyPair(t, keyPath)
		if st, _ := (apiCall{method: "POST", url: on().url + "/api/users/me/ssh-keys", token: pat.AccessToken,
			body: map[string]string{"public_key": line}}).do(t, nil); st != http.StatusCreated {
			t.Fatalf("add key: %d", st)
		}
		pem, err := os.ReadFile(keyPath)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := gossh.ParsePrivateKey(pem)
		if err != nil {
			t.Fatal(err)
		}
		const client = "127.0.0.77"
		dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(client)}, Timeout: 10 * time.Second}
		raw, err := dialer.Dial("tcp", sshAddr)
		if err != nil {
			t.Fatal(err)
		}
		cc, chans, reqs, err := gossh.NewClientConn(raw, sshAddr, &gossh.ClientConfig{User: "max",
			Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)}, HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		conn := gossh.NewClient(cc, chans, reqs)
		defer conn.Close()
		sess, err := conn.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		s := &session{conn: conn, sess: sess, seen: make(chan struct{}, 1)}
		sess.Stdout, sess.Stderr = s, s
		if err := sess.RequestPty("xterm-256color", 30, 100, gossh.TerminalModes{}); err != nil {
			t.Fatal(err)
		}
		if err := sess.Shell(); err != nil {
			t.Fatal(err)
		}
		waitScreen(t, s, "Dr. ")
		s.close()

		var events struct {
			Results []struct {
				Action string `json:"action"`
				IP     string `json:"ip"`
			} `json:"results"`
		}
		if st, _ := (apiCall{method: "GET", url: on().url + "/api/audit-events?action=auth.ssh_login&actor_id=" + pat.User.ID,
			token: staff.AccessToken}).do(t, &events); st != http.StatusOK || len(events.Results) == 0 {
			t.Fatalf("audit of the SSH login: %d, %d events", st, len(events.Results))
		}
		for _, e := range events.Results {
			if e.IP != client {
				t.Fatalf("the SSH login is audited from %q, want the SSH client's %s", e.IP, client)
			}
		}
	})

	t.Run("kill -9 during creates: every 201 is readable through the other", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var mu sync.Mutex
		var created []string
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					data, _ := json.Marshal(newRecord("Kim Kill"))
					req, _ := http.NewRequestWithContext(ctx, "POST", b.url+"/api/medical-records", bytes.NewReader(data))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+pat.AccessToken)
					res, err := httpClient.Do(req)
					if err != nil {
						return // the instance is gone
					}
					var rec struct {
						ID string `json:"id"`
					}
					json.NewDecoder(res.Body).Decode(&rec)
					res.Body.Close()
					if res.StatusCode == http.StatusCreated {
						mu.Lock()
						created = append(created, rec.ID)
						mu.Unlock()
					}
				}
			}()
		}
		// Let creates run, then crash B in the middle of them.
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			n := len(created)
			mu.Unlock()
			if n >= 40 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := b.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-b.exited
		wg.Wait()
		if len(created) == 0 {
			t.Fatal("no create answered 201 before the kill")
		}
		for _, id := range created {
			if st, _ := (apiCall{method: "GET", url: a.url + "/api/medical-records/" + id, token: pat.AccessToken}).do(t, nil); st != http.StatusOK {
				t.Fatalf("record %s, answered 201 by B before its kill, reads %d on A", id, st)
			}
		}
		t.Logf("%d creates answered 201 before the kill; every one reads on A", len(created))
	})
}

// resetCodeLine finds a reset code in an email the log mailer printed.
var multiResetCode = regexp.MustCompile(`reset code is (\d{6})`)

// waitResetCode waits for a reset code mailed to email in any of the
// instances' logs.
func waitResetCode(t *testing.T, email string, ins ...*instance) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, in := range ins {
			for _, line := range strings.Split(in.logs.String(), "\n") {
				if strings.Contains(line, "to="+email+" ") {
					if m := multiResetCode.FindStringSubmatch(line); m != nil {
						return m[1]
					}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reset code for %s in any log", email)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitScreen waits until an SSH session's output holds want.
func waitScreen(t *testing.T, s *session, want string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		ok := bytes.Contains(s.out.Bytes(), []byte(want))
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-s.seen:
		case <-deadline:
			s.mu.Lock()
			t.Fatalf("the SSH screen never showed %q:\n%q", want, s.out.String())
			s.mu.Unlock()
		}
	}
}
