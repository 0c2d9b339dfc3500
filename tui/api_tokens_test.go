package tui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui"
	"github.com/anavara/anavara/tui/client"
)

// bearerStatus is the status of GET /api/medical-records (scope
// records:read) with token as the bearer: what a script holding it gets.
func (e *env) bearerStatus(token string) int {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+"/api/medical-records", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// serverTokens lists the API tokens of c's account on the server.
func serverTokens(t testing.TB, c *client.Client) []model.APIToken {
	t.Helper()
	p, err := c.ListAPITokens(context.Background(), client.APITokenQuery{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	return p.Results
}

// secretLine returns the view's line that starts with the token prefix,
// failing unless there is exactly one.
func (d *driver) secretLine() string {
	d.t.Helper()
	var found []string
	for _, l := range strings.Split(d.view(), "\n") {
		if strings.Contains(l, model.APITokenPrefix) {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		d.t.Fatalf("%d lines with a token, want 1:\n%s", len(found), d.view())
	}
	return found[0]
}

func TestProfileAPITokens(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	d := signedIn(t, ann, 100, 30)
	d.typ("p")
	d.sees("Your profile", "t api tokens")
	d.typ("t")
	d.sees("Your API tokens", "0 tokens", "No API tokens", "a new token", "d revoke")

	// The form: a patient is not offered audit:read; 30 days by default.
	d.typ("a")
	d.sees("New API token", "[ ] records:read", "[ ] records:write", "[ ] users:read", "[ ] users:write", "days (1–365)")
	d.misses(model.ScopeAuditRead)
	if l := d.lineWith("Expires in"); !strings.Contains(l, "30") {
		t.Fatalf("expiry not 30 days by default: %q", l)
	}

	// Nothing filled in: the server's messages under the name and the scopes.
	d.press(tea.KeyCtrlS)
	if !strings.Contains(d.below("Name"), "✗") || !strings.Contains(d.view(), model.MsgScopesEmpty) {
		t.Fatalf("a blank form not flagged:\n%s", d.view())
	}
	d.sees("Please correct the highlighted fields.")

	// A name (the focus is on the first field in error), two scopes
	// (space toggles, arrows move), 400 days: the server refuses the expiry.
	if l := d.lineWith("Name"); !strings.Contains(l, "›") {
		t.Fatalf("focus not on the name: %q", l)
	}
	d.typ("nightly backup")
	d.press(tea.KeyTab)
	d.typ(" ") // records:read
	d.press(tea.KeyDown, tea.KeyDown)
	d.typ(" ") // users:read
	d.sees("[x] records:read", "[ ] records:write", "[x] users:read", "[ ] users:write")
	d.press(tea.KeyDown, tea.KeyDown)
	d.clear()
	d.typ("400")
	d.press(tea.KeyCtrlS)
	if !strings.Contains(d.below("Expires in"), model.MsgAPITokenExpires) {
		t.Fatalf("400 days not flagged under the field:\n%s", d.view())
	}
	// Not a number: flagged before sending.
	d.clear()
	d.typ("ten")
	d.press(tea.KeyCtrlS)
	if !strings.Contains(d.below("Expires in"), model.MsgAPITokenExpires) {
		t.Fatalf("a non-number not flagged:\n%s", d.view())
	}
	if n := len(serverTokens(t, ann.c)); n != 0 {
		t.Fatalf("%d tokens on the server after refused forms", n)
	}

	// 90 days: created, and the secret shown once, whole, on a line of its
	// own at the left edge.
	d.clear()
	d.typ("90")
	d.press(tea.KeyEnter)
	d.sees(`API token “nightly backup” created`, "records:read, users:read",
		"Copy it now: it is not shown again. Use it as Authorization: Bearer …", "enter/esc done")
	line := d.secretLine()
	secret := strings.TrimRight(line, " ")
	if !strings.HasPrefix(line, model.APITokenPrefix) || strings.ContainsAny(secret, " │") {
		t.Fatalf("the secret is not alone on its line at the left edge: %q", line)
	}
	if got := e.bearerStatus(secret); got != http.StatusOK {
		t.Fatalf("the shown token: %d, want 200", got)
	}
	toks := serverTokens(t, ann.c)
	if len(toks) != 1 || toks[0].Name != "nightly backup" || strings.Join(toks[0].Scopes, " ") != "records:read users:read" ||
		!toks[0].Expires.Equal(toks[0].Created.AddDate(0, 0, 90)) {
		t.Fatalf("server tokens: %+v", toks)
	}

	// Leaving forgets it: the list shows the token, never its secret, and
	// nothing brings the secret back.
	d.press(tea.KeyEsc)
	d.sees("Your API tokens", "1 token", "nightly backup", "records:read, users:read",
		toks[0].Expires.UTC().Format(model.DateLayout))
	d.misses(secret, model.APITokenPrefix, "Copy it now")
	for _, k := range []string{"r", "j", "k", "?", "?"} {
		d.typ(k)
		d.misses(secret)
	}
	d.press(tea.KeyEsc) // the profile
	d.typ("t")
	d.misses(secret)

	// The token's use shows as last used (it was used above).
	if l := d.lineWith("nightly backup"); !strings.Contains(l, time.Now().UTC().Format(model.DateLayout)) || strings.Contains(l, "never") {
		t.Fatalf("last used not shown: %q", l)
	}

	// Revoke, with confirmation: n keeps it, y revokes it.
	d.typ("d")
	d.sees("Revoke API token", "nightly backup", "Scripts that use it stop working at once.")
	d.typ("n")
	d.sees("1 token")
	if got := e.bearerStatus(secret); got != http.StatusOK {
		t.Fatalf("after cancelling the revocation: %d, want 200", got)
	}
	d.typ("d")
	d.typ("y")
	d.sees("API token revoked", "0 tokens", "No API tokens")
	if got := e.bearerStatus(secret); got != http.StatusUnauthorized {
		t.Fatalf("a revoked token: %d, want 401", got)
	}
	if n := len(serverTokens(t, ann.c)); n != 0 {
		t.Fatalf("%d tokens after revoking", n)
	}
}

func TestAPITokenNeverUsedAndCancelled(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	if _, err := ann.c.CreateAPIToken(context.Background(), client.CreateAPITokenRequest{Name: "unused", Scopes: []string{model.ScopeRecordsWrite}}); err != nil {
		t.Fatal(err)
	}
	d := signedIn(t, ann, 100, 30)
	d.typ("p")
	d.typ("t")
	if l := d.lineWith("unused"); !strings.Contains(l, "never") || !strings.Contains(l, "records:write") {
		t.Fatalf("a never-used token: %q", l)
	}
	// An untouched form closes at once; a changed one asks first.
	d.typ("a")
	d.press(tea.KeyEsc)
	d.sees("Your API tokens")
	d.typ("a")
	d.typ("x")
	d.press(tea.KeyEsc)
	d.sees("Discard changes?")
	d.typ("y")
	d.sees("Your API tokens", "1 token")
	if n := len(serverTokens(t, ann.c)); n != 1 {
		t.Fatalf("%d tokens after cancelling", n)
	}
}

func TestAPITokenNamesAreSanitised(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	const hostile = "evil\x1b]0;pwned\x07\x1b[2Jname\u202e"
	if _, err := ann.c.CreateAPIToken(context.Background(), client.CreateAPITokenRequest{Name: hostile, Scopes: []string{model.ScopeRecordsRead}}); err != nil {
		t.Fatal(err)
	}
	d := signedIn(t, ann, 100, 30)
	inert := func(where string) {
		t.Helper()
		if v := d.m.View(); strings.ContainsAny(v, "\x1b\x07\u202e") {
			t.Fatalf("%s: a token name reached the terminal as control characters:\n%q", where, v)
		}
	}
	d.typ("p")
	d.typ("t")
	d.sees("evil")
	inert("list")
	d.typ("d")
	d.sees("Revoke API token", "evil")
	inert("revoke dialog")
	d.typ("n")

	// Pasted into the form: the name is sent as typed and shown inert on
	// the secret screen.
	d.typ("a")
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("paste\x1b[31mred"), Paste: true})
	d.press(tea.KeyTab)
	d.typ(" ")
	d.press(tea.KeyCtrlS)
	d.sees("created")
	inert("secret screen")
	d.press(tea.KeyEnter)
	d.sees("2 tokens")
	inert("list of two")
}

// TestAPITokensOverSSH: over SSH the secret is printed into the session's
// terminal the same way.
func TestAPITokensOverSSH(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	d := start(t, tui.Options{Client: ann.c, SignedIn: true, Remote: true}, 80, 24)
	d.typ("p")
	d.typ("t")
	d.typ("a")
	d.typ("ssh job")
	d.press(tea.KeyTab)
	d.typ(" ")
	d.press(tea.KeyCtrlS)
	secret := strings.TrimRight(d.secretLine(), " ")
	if got := e.bearerStatus(secret); got != http.StatusOK {
		t.Fatalf("the token shown over SSH: %d, want 200", got)
	}
}

func TestStaffAPITokens(t *testing.T) {
	e := newEnv(t)
	sam := e.staff("sam@example.org")
	ann := e.patient("ann@example.org", "Ann", "Smith")
	nt, err := ann.c.CreateAPIToken(context.Background(), client.CreateAPITokenRequest{Name: "ann's job", Scopes: []string{model.ScopeRecordsRead}})
	if err != nil {
		t.Fatal(err)
	}

	d := signedIn(t, sam, 110, 32)
	// Staff are offered audit:read for their own tokens.
	d.typ("p")
	d.typ("t")
	d.typ("a")
	d.sees("[ ] audit:read")
	d.press(tea.KeyEsc, tea.KeyEsc, tea.KeyEsc)

	// A person's tokens, from their page: listed and revocable, not created.
	d.typ("u")
	d.typ("/")
	d.typ("ann")
	d.press(tea.KeyEnter) // apply the search
	d.press(tea.KeyEnter) // open Ann
	d.sees("Ann Smith", "t api tokens")
	d.typ("t")
	d.sees("API tokens of Ann Smith", "1 token", "ann's job", "records:read", "d revoke")
	d.misses("a new token")
	d.typ("a")
	d.misses("New API token")
	d.typ("d")
	d.sees("Revoke API token", "ann's job")
	d.typ("y")
	d.sees("API token revoked", "0 tokens", "This person has no API tokens.")
	if got := e.bearerStatus(nt.Token); got != http.StatusUnauthorized {
		t.Fatalf("a token staff revoked: %d, want 401", got)
	}
	if n := len(serverTokens(t, ann.c)); n != 0 {
		t.Fatalf("ann has %d tokens", n)
	}
}

func TestAPITokenScreensFit(t *testing.T) {
	e := newEnv(t)
	sam := e.staff("sam@example.org")
	ann := e.patient("ann@example.org", "Ann", "Smith")
	if _, err := sam.c.CreateAPIToken(context.Background(), client.CreateAPITokenRequest{
		Name: "a token with a rather long descriptive name for a job", Scopes: model.AllScopes}); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.c.CreateAPIToken(context.Background(), client.CreateAPITokenRequest{Name: "ann's job", Scopes: []string{model.ScopeRecordsRead}}); err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		w, h := size[0], size[1]
		for _, color := range []bool{false, true} {
			opts := tui.Options{Client: e.client(), SignedIn: true}
			if color {
				opts.Renderer = colorRenderer()
			}
			if _, err := opts.Client.Login(context.Background(), sam.Email, testPassword); err != nil {
				t.Fatal(err)
			}
			d := start(t, opts, w, h)
			d.typ("p")
			fits(t, d, w, h, "profile")
			d.sees("k ssh keys", "t api tokens for scripts", "o sign out")
			d.typ("t")
			d.typ("G") // the oldest: the long name
			d.sees("a token with", "Selected a token with a rather long descriptive name for a job", "audit:read")
			fits(t, d, w, h, "api tokens")
			d.typ("?")
			fits(t, d, w, h, "api tokens full help")
			d.typ("?")
			d.typ("d")
			fits(t, d, w, h, "revoke dialog")
			d.typ("n")
			d.typ("a")
			fits(t, d, w, h, "new token")
			d.press(tea.KeyCtrlS)
			fits(t, d, w, h, "new token with errors")
			d.sees(model.MsgScopesEmpty)
			d.typ("fit")
			d.press(tea.KeyTab)
			d.typ(" ")
			d.press(tea.KeyCtrlS)
			fits(t, d, w, h, "new token's secret")
			if line := d.secretLine(); !strings.HasPrefix(line, model.APITokenPrefix) {
				t.Fatalf("at %dx%d the secret is not at the left edge: %q", w, h, line)
			}
			d.press(tea.KeyEnter)
			d.press(tea.KeyEsc, tea.KeyEsc)
			d.typ("u")
			d.typ("/")
			d.typ("ann")
			d.press(tea.KeyEnter, tea.KeyEnter)
			d.sees("Ann Smith")
			fits(t, d, w, h, "person")
			d.typ("t")
			d.sees("API tokens of Ann Smith", "ann's job")
			fits(t, d, w, h, "a person's api tokens")
		}
	}
}

// TestAPITokenSecretInANarrowWindow: a window too narrow for the secret
// says so rather than show a part that could not be used; widened, it
// shows the whole token.
func TestAPITokenSecretInANarrowWindow(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	d := signedIn(t, ann, 40, 30)
	d.typ("p")
	d.typ("t")
	d.typ("a")
	d.typ("narrow")
	d.press(tea.KeyTab)
	d.typ(" ")
	d.press(tea.KeyCtrlS)
	d.sees("Widen the window to")
	d.misses(model.APITokenPrefix)
	fits(t, d, 40, 30, "a narrow secret screen")
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	secret := strings.TrimRight(d.secretLine(), " ")
	if got := e.bearerStatus(secret); got != http.StatusOK {
		t.Fatalf("the token shown once the window is wide enough: %d, want 200", got)
	}
}
