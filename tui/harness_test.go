package tui_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/mail"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/password"
	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/server"
	"github.com/anavara/anavara/tui"
	"github.com/anavara/anavara/tui/client"
)

// testPassword passes the password policy for every test account.
const testPassword = "Vq7!plum-Orbit-42"

// cheapHashing keeps argon2id fast in tests; the hashes stay real.
var cheapHashing = password.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// env is a real Anavara server on a loopback listener, over a real SQLite
// file in a temp dir, with a capturing mailer.
type env struct {
	t     testing.TB
	url   string
	store db.Store
	mail  *mail.Capture
}

func newEnv(t testing.TB) *env {
	t.Helper()
	store, _ := testenv.OpenStore(t, sqlite.Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	generous := ratelimit.Rule{Limit: 100000, Window: time.Minute}
	capture := mail.NewCapture()
	srv, err := server.New(server.Config{
		JWTSecret:      bytes.Repeat([]byte("k"), 32),
		PasswordParams: cheapHashing,
		Limits: auth.Limits{
			LoginPerIPAndEmail: generous, SignupPerIP: generous, ForgotPerEmail: generous,
			ForgotPerIP: generous, ResetPerEmail: generous, RefreshPerIP: generous,
		},
	}, store, capture)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		store.Close()
	})
	return &env{t: t, url: "http://" + ln.Addr().String(), store: store, mail: capture}
}

// client returns a new API client of the server with no tokens.
func (e *env) client() *client.Client {
	e.t.Helper()
	c, err := client.New(client.Options{BaseURL: e.url})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// account is a user with a signed-in client.
type account struct {
	model.User
	c *client.Client
}

// patient signs up a patient account through the API.
func (e *env) patient(email, first, last string) account {
	e.t.Helper()
	c := e.client()
	res, err := c.Signup(context.Background(), client.SignupRequest{FirstName: first, LastName: last, Email: email, Password: testPassword})
	if err != nil {
		e.t.Fatalf("signup %s: %v", email, err)
	}
	return account{User: res.User, c: c}
}

// staff creates a staff account in the database, as `anavara
// createsuperuser` does, and signs it in through the API.
func (e *env) staff(email string) account {
	e.t.Helper()
	testenv.CreateStaff(e.t, e.store, email, testPassword, cheapHashing, time.Now())
	ctx := context.Background()
	c := e.client()
	res, err := c.Login(ctx, email, testPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	return account{User: res.User, c: c}
}

// record creates a record through the API.
func (a account) record(t testing.TB, in client.RecordInput) model.MedicalRecord {
	t.Helper()
	if in.DateOfBirth.IsZero() {
		in.DateOfBirth = model.NewDate(1980, time.May, 17)
	}
	if in.DateOfTreatment.IsZero() {
		in.DateOfTreatment = future(30)
	}
	if in.Doctor == "" {
		in.Doctor = "Dr. Grey"
	}
	r, err := a.c.CreateRecord(context.Background(), in)
	if err != nil {
		t.Fatalf("create record: %v", err)
	}
	return r
}

// records lists every record a can see.
func (a account) records(t testing.TB) []model.MedicalRecord {
	t.Helper()
	p, err := a.c.ListRecords(context.Background(), client.RecordQuery{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	return p.Results
}

// future is the date n days after today (UTC).
func future(n int) model.Date { return model.DateOf(time.Now()).AddDays(n) }

// resetCode waits for the reset email to email and returns its code.
func (e *env) resetCode(email string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg, err := e.mail.WaitFor(ctx, email)
	if err != nil {
		e.t.Fatalf("no reset email to %s: %v", email, err)
	}
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(msg.Body)
	if code == "" {
		e.t.Fatalf("no code in email %q", msg.Body)
	}
	return code
}

// plainRenderer renders without colour, so views compare as plain text.
func plainRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return r
}

// colorRenderer renders in true colour on a dark background.
func colorRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	r.SetHasDarkBackground(true)
	return r
}

// driver runs a Model without a terminal: it sends messages to Update and
// executes the returned commands synchronously, feeding their messages back,
// so after each call the model has finished everything the input started.
type driver struct {
	t    testing.TB
	m    tea.Model
	quit bool
}

// start builds the UI with opts (no animations) at w×h and runs Init.
func start(t testing.TB, opts tui.Options, w, h int) *driver {
	t.Helper()
	opts.ReduceMotion = true
	if opts.Renderer == nil {
		opts.Renderer = plainRenderer()
	}
	d := &driver{t: t, m: tui.New(opts)}
	d.send(tea.WindowSizeMsg{Width: w, Height: h})
	d.run(d.m.Init())
	return d
}

// signedIn opens the UI for an account whose client already holds tokens.
func signedIn(t testing.TB, a account, w, h int) *driver {
	t.Helper()
	return start(t, tui.Options{Client: a.c, SignedIn: true}, w, h)
}

func (d *driver) send(msg tea.Msg) {
	d.t.Helper()
	m, cmd := d.m.Update(msg)
	d.m = m
	d.run(cmd)
}

// run executes cmd and handles what it returns. Timers (spinner ticks,
// cursor blinks) are dropped; a command that hangs fails the test.
func (d *driver) run(cmd tea.Cmd) {
	d.t.Helper()
	if cmd == nil {
		return
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-ch:
	case <-time.After(20 * time.Second):
		d.t.Fatal("a command did not finish in 20s")
	}
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
	case spinner.TickMsg, cursor.BlinkMsg:
	case tea.QuitMsg:
		d.quit = true
	default:
		// tea.Sequence's message is an unexported []tea.Cmd.
		if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
			for i := range v.Len() {
				d.run(v.Index(i).Interface().(tea.Cmd))
			}
			return
		}
		d.send(msg)
	}
}

// typ types text one key at a time.
func (d *driver) typ(text string) {
	d.t.Helper()
	for _, r := range text {
		if r == ' ' {
			d.send(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
			continue
		}
		d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// press sends special keys.
func (d *driver) press(keys ...tea.KeyType) {
	d.t.Helper()
	for _, k := range keys {
		d.send(tea.KeyMsg{Type: k})
	}
}

// tabs presses tab n times.
func (d *driver) tabs(n int) {
	d.t.Helper()
	for range n {
		d.press(tea.KeyTab)
	}
}

// clear empties the focused text field.
func (d *driver) clear() {
	d.t.Helper()
	d.press(tea.KeyCtrlE, tea.KeyCtrlU)
}

// view is the rendered screen as plain text (colours stripped).
func (d *driver) view() string { return ansi.Strip(d.m.View()) }

// sees fails unless the view contains every one of wants.
func (d *driver) sees(wants ...string) {
	d.t.Helper()
	v := d.view()
	for _, w := range wants {
		if !strings.Contains(v, w) {
			d.t.Fatalf("view lacks %q:\n%s", w, v)
		}
	}
}

// misses fails if the view contains any of unwanted.
func (d *driver) misses(unwanted ...string) {
	d.t.Helper()
	v := d.view()
	for _, w := range unwanted {
		if strings.Contains(v, w) {
			d.t.Fatalf("view has %q:\n%s", w, v)
		}
	}
}

// lineWith returns the view's line containing s.
func (d *driver) lineWith(s string) string {
	d.t.Helper()
	for _, l := range strings.Split(d.view(), "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	d.t.Fatalf("no line with %q:\n%s", s, d.view())
	return ""
}

// below returns the line after the one containing s.
func (d *driver) below(s string) string {
	d.t.Helper()
	lines := strings.Split(d.view(), "\n")
	for i, l := range lines {
		if strings.Contains(l, s) && i+1 < len(lines) {
			return lines[i+1]
		}
	}
	d.t.Fatalf("no line after %q:\n%s", s, d.view())
	return ""
}

func name(i int) string { return fmt.Sprintf("Patient %02d", i) }
