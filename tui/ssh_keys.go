package tui

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	gossh "golang.org/x/crypto/ssh"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// maxKeyLine bounds a pasted authorized_keys line (an RSA 16384-bit key
// with options and a comment stays well under it).
const maxKeyLine = 16 << 10

// msgKeyLinkedElsewhere is what the link offer says when the server answers
// 409: the key already belongs to an account.
const msgKeyLinkedElsewhere = "Not linked: this SSH key already belongs to another account."

// keyInfo describes an authorized_keys line for display: its type and
// SHA256 fingerprint, and its comment (sanitised). ok is false when the
// line does not parse.
func keyInfo(line string) (typ, fingerprint, comment string, ok bool) {
	pub, cmt, _, _, err := gossh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return "", "", "", false
	}
	return pub.Type(), gossh.FingerprintSHA256(pub), clean(strings.TrimSpace(cmt)), true
}

// linkKeyScreen offers, right after sign-in or sign-up over SSH with a key
// nobody has yet, to link that key to the account: y links it, n or esc
// dismisses the offer.
type linkKeyScreen struct {
	screenBase
	line string
	busy bool
}

func newLinkKeyScreen(a *app, line string) *linkKeyScreen {
	return &linkKeyScreen{screenBase: a.newBase(), line: line}
}

func (s *linkKeyScreen) init() tea.Cmd { return nil }
func (s *linkKeyScreen) title() string { return "Link SSH key" }
func (s *linkKeyScreen) typing() bool  { return false }

func (s *linkKeyScreen) help() bindings {
	k := s.a.keys
	return bindings{short: []key.Binding{k.LinkKey, k.SkipKey}, full: [][]key.Binding{{k.LinkKey, k.SkipKey}}}
}

func (s *linkKeyScreen) update(msg tea.Msg) tea.Cmd {
	a, k := s.a, s.a.keys
	switch msg := msg.(type) {
	case result[model.SSHKey]:
		s.busy = false
		switch {
		case msg.err == nil:
			cmd := s.close()
			a.notify("SSH key linked: from now on, ssh signs you in by this key alone.")
			return cmd
		case client.IsStatus(msg.err, http.StatusConflict):
			cmd := s.close()
			a.failText(msgKeyLinkedElsewhere)
			return cmd
		}
		// Anything else: say why and leave the offer open to retry or skip.
		a.fail(msg.err)
		return nil
	case tea.KeyMsg:
		if s.busy {
			return nil
		}
		switch {
		case key.Matches(msg, k.LinkKey):
			a.clearBanner()
			s.busy = true
			line, name := s.line, linkedKeyName(s.line, a.today())
			return do(a, &s.screenBase, "link", true, func(ctx context.Context, c *client.Client) (model.SSHKey, error) {
				return c.AddSSHKey(ctx, name, line)
			})
		case key.Matches(msg, k.SkipKey):
			return s.close()
		}
	}
	return nil
}

// close removes the offer wherever it is in the stack (a session that
// ended may already have replaced it).
func (s *linkKeyScreen) close() tea.Cmd {
	a := s.a
	if a.top() == screen(s) {
		return a.pop()
	}
	return nil
}

func (s *linkKeyScreen) view(w, h int) string {
	a, st := s.a, s.a.st
	var b strings.Builder
	b.WriteString(st.Title.Render("Link this SSH key to your account? (y/n)") + "\n\n")
	if typ, fp, comment, ok := keyInfo(s.line); ok {
		desc := typ
		if comment != "" {
			desc += "  " + comment
		}
		b.WriteString(st.Value.Render(desc) + "\n" + st.Muted.Render(fp) + "\n\n")
	}
	text := "Then your next ssh connection to Anavara with this key signs you in by the key alone, without a password."
	if limit := max(min(w-10, 60), 10); lipgloss.Width(text) > limit {
		text = wrapWords(text, limit)
	}
	b.WriteString(st.Text.Render(text) + "\n\n")
	if s.busy {
		b.WriteString(a.spinnerView() + st.Muted.Render(" Linking…"))
	} else {
		b.WriteString(st.Accent.Render("y") + " " + st.Muted.Render("link key") + st.Faint.Render("   ·   ") +
			st.Accent.Render("n/esc") + " " + st.Muted.Render("not now"))
	}
	box := st.Card.Render(b.String())
	if lipgloss.Width(box) > w || lipgloss.Height(box) > h {
		return indent(b.String(), 2)
	}
	return st.r.Place(w, h, 0.5, 0.4, box)
}

// sshKeysScreen lists the signed-in account's SSH keys; a adds one from an
// authorized_keys line, d removes the selected one.
type sshKeysScreen struct {
	screenBase
	list   *list
	keys   []model.SSHKey
	loaded bool
}

func newSSHKeysScreen(a *app) *sshKeysScreen {
	s := &sshKeysScreen{screenBase: a.newBase()}
	s.list = newList(a,
		column{title: "Name", weight: 45},
		column{title: "Type", width: 11},
		column{title: "Fingerprint", weight: 55},
		column{title: "Added", width: 10},
		column{title: "Last used", width: 10},
	)
	return s
}

func (s *sshKeysScreen) init() tea.Cmd   { return s.load() }
func (s *sshKeysScreen) resume() tea.Cmd { return s.load() }
func (s *sshKeysScreen) title() string   { return "SSH keys" }
func (s *sshKeysScreen) typing() bool    { return false }

func (s *sshKeysScreen) load() tea.Cmd {
	return do(s.a, &s.screenBase, "list", true, func(ctx context.Context, c *client.Client) ([]model.SSHKey, error) {
		return c.ListSSHKeys(ctx)
	})
}

func (s *sshKeysScreen) selected() *model.SSHKey {
	i := s.list.cursor()
	if i < 0 || i >= len(s.keys) {
		return nil
	}
	return &s.keys[i]
}

func (s *sshKeysScreen) help() bindings {
	k := s.a.keys
	return bindings{
		short: []key.Binding{k.AddKey, k.Delete, k.Refresh, k.Back},
		full:  [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {k.AddKey, k.Delete, k.Refresh, k.Back}},
	}
}

func (s *sshKeysScreen) update(msg tea.Msg) tea.Cmd {
	a, k := s.a, s.a.keys
	switch msg := msg.(type) {
	case result[[]model.SSHKey]: // list
		if msg.err != nil {
			a.fail(msg.err)
			return nil
		}
		s.show(msg.val)
		return nil
	case result[none]: // delete
		if msg.err != nil {
			a.fail(msg.err)
		} else {
			a.notify("SSH key removed.")
		}
		return s.load()
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, k.Back):
			return a.pop()
		case key.Matches(msg, k.AddKey):
			return a.push(newSSHKeyFormScreen(a))
		case key.Matches(msg, k.Delete):
			sk := s.selected()
			if sk == nil {
				return nil
			}
			id := sk.ID
			q := fmt.Sprintf("Remove the SSH key %s (%s)?\nIt will no longer sign you in over SSH.", "“"+clean(sk.Name)+"”", clean(sk.Fingerprint))
			return a.push(newConfirmScreen(a, "Remove SSH key", q, "Remove", func() tea.Cmd { return s.remove(id) }))
		case key.Matches(msg, k.Refresh):
			return s.load()
		default:
			s.list.update(msg)
		}
	}
	return nil
}

func (s *sshKeysScreen) remove(id string) tea.Cmd {
	return do(s.a, &s.screenBase, "delete", true, func(ctx context.Context, c *client.Client) (none, error) {
		return none{}, c.DeleteSSHKey(ctx, id)
	})
}

func (s *sshKeysScreen) show(keys []model.SSHKey) {
	s.loaded = true
	s.keys = keys
	rows := make([][]string, len(keys))
	for i, sk := range keys {
		used := "never"
		if sk.LastUsed != nil && !sk.LastUsed.IsZero() {
			used = sk.LastUsed.UTC().Format(model.DateLayout)
		}
		rows[i] = []string{clean(sk.Name), clean(strings.TrimPrefix(sk.Type, "ssh-")), clean(sk.Fingerprint),
			sk.Created.UTC().Format(model.DateLayout), used}
	}
	s.list.setRows(rows)
}

// layout leaves room for the title, the details of the selected key and
// the hint line.
func (s *sshKeysScreen) layout(w, h int) { s.list.setSize(w-2, max(h-7, 3)) }

func (s *sshKeysScreen) view(w, h int) string {
	a, st := s.a, s.a.st
	var b strings.Builder
	sub := "loading…"
	if s.loaded {
		sub = plural(len(s.keys), "key", "keys") + " linked"
	}
	b.WriteString(st.Title.Render("Your SSH keys") + st.Faint.Render("  ·  ") + st.Subtitle.Render(sub) + "\n\n")
	switch {
	case !s.loaded:
		b.WriteString(s.list.emptyView(a.spinnerView() + st.Muted.Render(" Loading keys…")))
	case len(s.keys) == 0:
		b.WriteString(s.list.emptyView(st.Muted.Render("No SSH keys yet. Press a to add one.")))
	default:
		b.WriteString(s.list.view())
		if sk := s.selected(); sk != nil {
			detail := st.Label.Render("Selected ") + st.Value.Render(clean(sk.Fingerprint))
			if sk.LastUsed != nil && !sk.LastUsed.IsZero() {
				detail += st.Faint.Render(" · ") + st.Muted.Render("used "+stamp(*sk.LastUsed))
			}
			b.WriteString("\n\n" + detail)
		}
	}
	return indent(b.String(), 2)
}

// sshKeyFormScreen adds an SSH key pasted as an authorized_keys line.
type sshKeyFormScreen struct {
	screenBase
	formScreen
	name *field
	pub  *field
}

func newSSHKeyFormScreen(a *app) *sshKeyFormScreen {
	s := &sshKeyFormScreen{screenBase: a.newBase(), formScreen: formScreen{form: newForm(a)}}
	f := s.form
	s.name = f.text("name", "Name", "e.g. laptop", model.MaxNameLength)
	s.name.hint = "optional"
	s.pub = f.text("public_key", "Public key", "ssh-ed25519 AAAA… you@host", maxKeyLine)
	f.button("Add key", s.submit)
	f.button("Cancel", a.pop)
	f.submit = s.submit
	return s
}

func (s *sshKeyFormScreen) title() string  { return "Add" }
func (s *sshKeyFormScreen) help() bindings { return s.form.help("add key", "cancel") }

func (s *sshKeyFormScreen) submit() tea.Cmd {
	if s.busy {
		return nil
	}
	f := s.form
	f.clearErrors()
	name, line := s.name.val(), s.pub.val()
	if line == "" {
		s.pub.err = model.MsgBlank
	} else if strings.ContainsAny(line, "\r\n") {
		s.pub.err = "Paste one key on a single line."
	}
	if f.hasErrors() {
		return f.focusFirstError()
	}
	return send(&s.formScreen, s.a, &s.screenBase, "add", true, func(ctx context.Context, c *client.Client) (model.SSHKey, error) {
		return c.AddSSHKey(ctx, name, line)
	})
}

func (s *sshKeyFormScreen) update(msg tea.Msg) tea.Cmd {
	a := s.a
	switch msg := msg.(type) {
	case result[model.SSHKey]:
		if cmd, ok := s.answered(msg.err); !ok {
			return cmd
		}
		sk := msg.val
		cmd := a.pop()
		a.notify("SSH key " + "“" + clean(sk.Name) + "” added.")
		return cmd
	}
	return s.inputAsking(a, msg, a.pop)
}

func (s *sshKeyFormScreen) layout(w, _ int) { s.form.setWidth(w - 4) }

func (s *sshKeyFormScreen) view(w, h int) string {
	return s.a.page("Add an SSH key", "paste one line of ~/.ssh/id_ed25519.pub or authorized_keys", s.form.view())
}

// linkedKeyName names a key linked from an SSH session. The SSH protocol
// does not carry a key's comment, which is what names a key added with its
// authorized_keys line, so without this every linked key would be called
// by its type alone ("ssh-ed25519"); this says what and when instead.
func linkedKeyName(line string, on model.Date) string {
	kind, _, _ := strings.Cut(strings.TrimSpace(line), " ")
	return kind + " key linked over SSH on " + on.String()
}
