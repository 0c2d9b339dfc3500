package tui

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// Personal API tokens, for scripts: Profile → API tokens lists the
// signed-in account's tokens, a creates one and shows its secret once, d
// revokes; staff reach a person's tokens (list and revoke) from the
// person's page.

// scopeWhat says in a few words what each scope allows, for the checklist
// of the create form.
var scopeWhat = map[string]string{
	model.ScopeRecordsRead:  "read records",
	model.ScopeRecordsWrite: "add, edit, delete records",
	model.ScopeUsersRead:    "read accounts",
	model.ScopeUsersWrite:   "change accounts",
	model.ScopeAuditRead:    "read the audit trail",
}

// apiTokensScreen lists an account's API tokens that are not revoked,
// newest first, a page at a time.
type apiTokensScreen struct {
	screenBase
	pagedList[model.APIToken]
	// userID is the account whose tokens these are; "" is the signed-in
	// user's own, the only ones this screen creates.
	userID string
	// whose names that account in the heading; "" for the user's own.
	whose string
}

// apiTokensPage is a loaded page of tokens.
type apiTokensPage struct {
	seq  int
	page model.Page[model.APIToken]
}

// newAPITokensScreen is the token list of account userID, named whose
// ("" and "" for the signed-in user's own).
func newAPITokensScreen(a *app, userID, whose string) *apiTokensScreen {
	if a.user != nil && userID == a.user.ID {
		userID, whose = "", ""
	}
	s := &apiTokensScreen{screenBase: a.newBase(), userID: userID, whose: whose,
		pagedList: pagedList[model.APIToken]{pageNo: 1, byNumber: true}}
	s.list = newList(a,
		column{title: "Name", weight: 40},
		column{title: "Scopes", weight: 60},
		column{title: "Created", width: 10},
		column{title: "Expires", width: 10},
		column{title: "Last used", width: 10},
	)
	return s
}

func (s *apiTokensScreen) init() tea.Cmd   { return s.load() }
func (s *apiTokensScreen) resume() tea.Cmd { return s.load() }
func (s *apiTokensScreen) title() string   { return "API tokens" }
func (s *apiTokensScreen) typing() bool    { return false }

// own reports whether these are the signed-in user's own tokens.
func (s *apiTokensScreen) own() bool { return s.userID == "" }

func (s *apiTokensScreen) load() tea.Cmd {
	s.seq++
	seq, id := s.seq, s.userID
	q := client.APITokenQuery{Page: s.pageNo, PageSize: s.pageSize()}
	return do(s.a, &s.screenBase, "list", true, func(ctx context.Context, c *client.Client) (apiTokensPage, error) {
		var p model.Page[model.APIToken]
		var err error
		if id == "" {
			p, err = c.ListAPITokens(ctx, q)
		} else {
			p, err = c.ListUserAPITokens(ctx, id, q)
		}
		return apiTokensPage{seq: seq, page: p}, err
	})
}

func (s *apiTokensScreen) help() bindings {
	k := s.a.keys
	if !s.own() {
		return bindings{
			short: []key.Binding{k.RevokeToken, k.NextPage, k.Back},
			full:  [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {k.RevokeToken, k.NextPage, k.PrevPage, k.Refresh}, {k.Back}},
		}
	}
	return bindings{
		short: []key.Binding{k.AddToken, k.RevokeToken, k.NextPage, k.Back},
		full:  [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {k.AddToken, k.RevokeToken, k.NextPage, k.PrevPage, k.Refresh}, {k.Back}},
	}
}

func (s *apiTokensScreen) update(msg tea.Msg) tea.Cmd {
	a, k := s.a, s.a.keys
	switch msg := msg.(type) {
	case result[apiTokensPage]:
		res := msg.val
		if show, cmd := s.settle(a, msg.err, res.seq != s.seq, 1, s.load); !show {
			return cmd
		}
		s.show(res.page)
		return nil
	case result[none]: // revoke
		if msg.err != nil {
			a.fail(msg.err)
		} else {
			a.notify("API token revoked: it no longer signs anything in.")
		}
		return s.load()
	case tea.KeyMsg:
		if handled, load := s.pageKey(k, msg); handled {
			if load {
				return s.load()
			}
			return nil
		}
		switch {
		case key.Matches(msg, k.Back):
			return a.pop()
		case key.Matches(msg, k.AddToken) && s.own():
			return a.push(newAPITokenFormScreen(a))
		case key.Matches(msg, k.RevokeToken):
			t := s.selected()
			if t == nil {
				return nil
			}
			id := t.ID
			q := fmt.Sprintf("Revoke the API token %s (%s)?\nScripts that use it stop working at once.", "“"+clean(t.Name)+"”", strings.Join(cleanScopes(t.Scopes), ", "))
			return a.push(newConfirmScreen(a, "Revoke API token", q, "Revoke", func() tea.Cmd { return s.revoke(id) }))
		default:
			s.list.update(msg)
		}
	}
	return nil
}

func (s *apiTokensScreen) revoke(tokenID string) tea.Cmd {
	id := s.userID
	return do(s.a, &s.screenBase, "revoke", true, func(ctx context.Context, c *client.Client) (none, error) {
		if id == "" {
			return none{}, c.RevokeAPIToken(ctx, tokenID)
		}
		return none{}, c.RevokeUserAPIToken(ctx, id, tokenID)
	})
}

func (s *apiTokensScreen) show(p model.Page[model.APIToken]) {
	s.take(p)
	now := s.a.now()
	rows := make([][]string, len(p.Results))
	for i, t := range p.Results {
		expires := t.Expires.UTC().Format(model.DateLayout)
		if !t.Expires.After(now) {
			expires = "expired"
		}
		rows[i] = []string{clean(t.Name), strings.Join(cleanScopes(t.Scopes), ", "),
			t.Created.UTC().Format(model.DateLayout), expires, lastUsed(t.LastUsed)}
	}
	s.list.setRows(rows)
}

// lastUsed is the day a token last signed a request in, or "never".
func lastUsed(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return t.UTC().Format(model.DateLayout)
}

// cleanScopes are scopes as the server sent them, made inert.
func cleanScopes(scopes []string) []string {
	out := make([]string, len(scopes))
	for i, sc := range scopes {
		out[i] = clean(sc)
	}
	return out
}

// layout leaves room for the title and the details of the selected token
// (up to three lines).
func (s *apiTokensScreen) layout(w, h int) { s.list.setSize(w-2, max(h-8, 3)) }

func (s *apiTokensScreen) view(w, h int) string {
	a, st := s.a, s.a.st
	heading := "Your API tokens"
	if !s.own() {
		heading = "API tokens of " + s.whose
	}
	sub := "loading…"
	if s.loaded {
		sub = plural(s.count, "token", "tokens")
		if s.pages > 1 {
			sub += fmt.Sprintf(" · page %d of %d", s.pageNo, s.pages)
		}
	}
	var b strings.Builder
	b.WriteString(st.Title.Render(heading) + st.Faint.Render("  ·  ") + st.Subtitle.Render(sub) + "\n\n")
	empty := "No API tokens. Press a to create one for a script."
	if !s.own() {
		empty = "This person has no API tokens."
	}
	b.WriteString(s.body(a, "Loading tokens…", st.Muted.Render(empty)))
	if t := s.selected(); t != nil {
		// The whole name and scopes, which the columns may cut, on as
		// few lines as the width allows.
		parts := []string{st.Label.Render("Selected ") + st.Value.Render(clean(t.Name)),
			st.Value.Render(strings.Join(cleanScopes(t.Scopes), ", ")),
			st.Muted.Render("expires " + stamp(t.Expires))}
		if t.LastUsed != nil && !t.LastUsed.IsZero() {
			parts = append(parts, st.Muted.Render("used "+stamp(*t.LastUsed)))
		}
		b.WriteString("\n\n" + joinFitting(parts, st.Faint.Render(" · "), w-2))
	}
	return indent(b.String(), 2)
}

// joinFitting joins parts with sep on one line while they fit in width
// columns, starting a new line where the next part would not.
func joinFitting(parts []string, sep string, width int) string {
	var b strings.Builder
	col := 0
	for i, p := range parts {
		pw := lipgloss.Width(p)
		switch {
		case i == 0:
		case col+lipgloss.Width(sep)+pw > width:
			b.WriteByte('\n')
			col = 0
		default:
			b.WriteString(sep)
			col += lipgloss.Width(sep)
		}
		b.WriteString(p)
		col += pw
	}
	return b.String()
}

// apiTokenFormScreen creates a token of the signed-in account: a name,
// the scopes (a checklist; audit:read only for staff) and how many days
// it lasts.
type apiTokenFormScreen struct {
	screenBase
	formScreen
	name   *field
	scopes []*field // one check per scope, in model.AllScopes order
	days   *field
}

func newAPITokenFormScreen(a *app) *apiTokenFormScreen {
	s := &apiTokenFormScreen{screenBase: a.newBase(), formScreen: formScreen{form: newForm(a)}}
	f := s.form
	s.name = f.text("name", "Name", "e.g. nightly backup", model.MaxAPITokenNameLength)
	label := "Scopes"
	for _, sc := range model.AllScopes {
		if !model.ScopeAllowed(sc, a.isStaff()) {
			continue
		}
		// The first check carries the field errors of "scopes".
		key := "scopes"
		if len(s.scopes) > 0 {
			key = "scopes." + sc
		}
		fl := f.check(key, label, padRight(sc, 15)+scopeWhat[sc])
		fl.value = sc
		s.scopes = append(s.scopes, fl)
		label = ""
	}
	s.days = f.text("expires_in_days", "Expires in", "", 3)
	s.days.hint = "days (1–" + strconv.Itoa(model.MaxAPITokenDays) + ")"
	s.days.load(strconv.Itoa(model.DefaultAPITokenDays))
	f.button("Create token", s.submit)
	f.button("Cancel", a.pop)
	f.submit = s.submit
	return s
}

func (s *apiTokenFormScreen) title() string  { return "New" }
func (s *apiTokenFormScreen) help() bindings { return s.form.help("create token", "cancel") }

func (s *apiTokenFormScreen) submit() tea.Cmd {
	if s.busy {
		return nil
	}
	f := s.form
	f.clearErrors()
	req := client.CreateAPITokenRequest{Name: s.name.val(), Scopes: []string{}}
	for _, fl := range s.scopes {
		if fl.on {
			req.Scopes = append(req.Scopes, fl.value)
		}
	}
	days, err := strconv.Atoi(s.days.val())
	if err != nil {
		s.days.err = model.MsgAPITokenExpires
	}
	// Everything else (a name, at least one scope, the days' range) the
	// server checks, and its messages land next to the fields.
	if f.hasErrors() {
		f.flag()
		return f.focusFirstError()
	}
	req.ExpiresInDays = days
	return send(&s.formScreen, s.a, &s.screenBase, "create", true, func(ctx context.Context, c *client.Client) (model.NewAPIToken, error) {
		return c.CreateAPIToken(ctx, req)
	})
}

func (s *apiTokenFormScreen) update(msg tea.Msg) tea.Cmd {
	a := s.a
	switch msg := msg.(type) {
	case result[model.NewAPIToken]:
		if cmd, ok := s.answered(msg.err); !ok {
			return cmd
		}
		// The form gives way to the one screen that shows the secret. (A
		// form left before its answer came drops the answer: the token is
		// then listed, without its secret, for the user to revoke.)
		a.stack = slices.DeleteFunc(a.stack, func(o screen) bool { return o == screen(s) })
		return a.push(newAPITokenSecretScreen(a, msg.val))
	}
	return s.inputAsking(a, msg, a.pop)
}

func (s *apiTokenFormScreen) layout(w, _ int) { s.form.setWidth(w - 4) }

func (s *apiTokenFormScreen) view(w, h int) string {
	return s.a.page("New API token", "for a script: it acts as you, within its scopes", s.form.view())
}

// apiTokenSecretScreen shows a new token's secret, the only time anyone
// sees it: on a line of its own, at the left edge and never wrapped, so it
// can be selected and copied whole. Leaving it forgets the secret.
type apiTokenSecretScreen struct {
	screenBase
	token model.NewAPIToken
}

func newAPITokenSecretScreen(a *app, t model.NewAPIToken) *apiTokenSecretScreen {
	return &apiTokenSecretScreen{screenBase: a.newBase(), token: t}
}

func (s *apiTokenSecretScreen) init() tea.Cmd { return nil }
func (s *apiTokenSecretScreen) title() string { return "New token" }
func (s *apiTokenSecretScreen) typing() bool  { return false }

func (s *apiTokenSecretScreen) help() bindings {
	k := s.a.keys
	return bindings{short: []key.Binding{k.TokenDone}, full: [][]key.Binding{{k.TokenDone}}}
}

func (s *apiTokenSecretScreen) update(msg tea.Msg) tea.Cmd {
	if km, ok := msg.(tea.KeyMsg); ok && key.Matches(km, s.a.keys.TokenDone) {
		// Forget the secret before going: the stack's backing array keeps
		// a popped screen until the slot is reused.
		s.token.Token = ""
		return s.a.pop()
	}
	return nil
}

func (s *apiTokenSecretScreen) view(w, h int) string {
	st := s.a.st
	t := s.token
	var b strings.Builder
	b.WriteString(st.Title.Render("API token “"+clean(t.Name)+"” created") + "\n\n")
	b.WriteString(st.Label.Render(padRight("Scopes", 10)) + st.Value.Render(strings.Join(cleanScopes(t.Scopes), ", ")) + "\n")
	b.WriteString(st.Label.Render(padRight("Expires", 10)) + st.Value.Render(stamp(t.Expires)) + "\n\n")
	hint := "Copy it now: it is not shown again. Use it as Authorization: Bearer …"
	b.WriteString(st.Accent.Render(wrapWords(hint, max(w-4, 10))) + "\n")
	out := indent(b.String(), 2) + "\n"
	// The secret itself: no indent, no style, nothing else on its line, so
	// that selecting the line copies the token and only the token. The
	// server's secret is base64url after the prefix; clean keeps it inert
	// should it ever be anything else.
	secret := clean(t.Token)
	if lipgloss.Width(secret) > w {
		// Cut, it could not be copied: say so instead of showing a part.
		out += indent(st.Error.Render(wrapWords(fmt.Sprintf("Widen the window to %d columns to see the token whole.", lipgloss.Width(secret)), max(w-4, 10))), 2)
	} else {
		out += secret
	}
	out += "\n\n" + indent(st.Muted.Render(wrapWords("Store it where the script reads it (a file only it can read, a secret store). Lost it? Revoke it and create another.", max(w-4, 10))), 2)
	out += "\n\n" + indent(st.Accent.Render("enter/esc")+" "+st.Muted.Render("done, forget the token"), 2)
	return out
}
