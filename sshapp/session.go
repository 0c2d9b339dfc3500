package sshapp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	"github.com/charmbracelet/wish/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"github.com/anavara/anavara/tui"
	"github.com/anavara/anavara/tui/client"
)

// stateKey is the context key of a session's state.
type stateKey struct{}

// sessionState is what identify resolves for one session.
type sessionState struct {
	client   *client.Client
	signedIn bool
	// authorizedKey is the verified key as an authorized_keys line, offered
	// for linking when it belongs to nobody yet.
	authorizedKey string
	program       *tea.Program
}

// acceptKey is the public-key callback. It is also called for keys the
// client merely offers without proving it holds them, so it must not
// remember anything about the key or the user: identity is resolved later,
// in identify, from the key that completed authentication.
func (s *Server) acceptKey(ctx ssh.Context, key ssh.PublicKey) bool {
	if s.cfg.AllowUnknownKeys {
		return true
	}
	c, err := s.newClient(ctx.RemoteAddr())
	if err != nil {
		return false
	}
	checkCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	known, err := c.SSHKeyKnown(checkCtx, s.cfg.ServiceToken, gossh.FingerprintSHA256(key))
	if err != nil {
		s.cfg.Logger.Error("ssh key check failed", "error", err)
		return false
	}
	return known
}

// newClient is an API client speaking for the SSH client at remote: with
// the service token, every request forwards remote's address, so that the
// API audits and rate-limits the session's client, not this front end
// (which all sessions would otherwise share, one sign-up bucket for all).
func (s *Server) newClient(remote net.Addr) (*client.Client, error) {
	opts := client.Options{BaseURL: s.cfg.APIURL, HTTPClient: s.cfg.HTTPClient}
	if addr, ok := remoteIP(remote); ok && s.cfg.ServiceToken != "" {
		opts.Forwarded = &client.Forwarding{ServiceToken: s.cfg.ServiceToken, ClientAddress: addr}
	}
	return client.New(opts)
}

// remoteIP is the IP address of an SSH client's remote address.
func remoteIP(a net.Addr) (string, bool) {
	if a == nil {
		return "", false
	}
	if tcp, ok := a.(*net.TCPAddr); ok {
		ip, ok := netip.AddrFromSlice(tcp.IP)
		return ip.Unmap().String(), ok
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return "", false
	}
	return ap.Addr().Unmap().WithZone("").String(), true
}

// identify signs the session in as the owner of the key that completed
// authentication, if any account has it; otherwise the session starts at
// sign-in with the key offered for linking.
func (s *Server) identify(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		c, err := s.newClient(sess.RemoteAddr())
		if err != nil {
			s.fail(sess, "Anavara is misconfigured: "+err.Error())
			return
		}
		st := &sessionState{client: c}
		if key := sess.PublicKey(); key != nil {
			fp := gossh.FingerprintSHA256(key)
			st.authorizedKey = strings.TrimSpace(string(gossh.MarshalAuthorizedKey(key)))
			ctx, cancel := context.WithTimeout(sess.Context(), 10*time.Second)
			res, err := c.LoginWithSSHKey(ctx, s.cfg.ServiceToken, fp)
			cancel()
			var unreachable *client.UnreachableError
			var apiErr *client.APIError
			switch {
			case err == nil:
				st.signedIn = true
				s.cfg.Logger.Info("ssh auth", "remote", sess.RemoteAddr().String(), "fingerprint", fp, "result", "known key", "user_id", res.User.ID)
			case client.IsStatus(err, http.StatusNotFound):
				s.cfg.Logger.Info("ssh auth", "remote", sess.RemoteAddr().String(), "fingerprint", fp, "result", "unknown key")
				if !s.cfg.AllowUnknownKeys {
					s.fail(sess, "This SSH key is not registered with Anavara.")
					return
				}
			case client.IsStatus(err, http.StatusUnauthorized) && errors.As(err, &apiErr) && strings.Contains(apiErr.Message, "service credential"):
				// The API does not trust this front end: a configuration
				// error, not the user's.
				s.cfg.Logger.Error("ssh login: the API rejected the service token (check --service-token)")
				s.fail(sess, "Anavara is misconfigured and cannot sign anyone in. Please tell the operator.")
				return
			case client.IsStatus(err, http.StatusUnauthorized):
				s.cfg.Logger.Info("ssh auth", "remote", sess.RemoteAddr().String(), "fingerprint", fp, "result", "refused")
				s.fail(sess, "This account is deactivated. Ask a staff member to reactivate it.")
				return
			case errors.As(err, &unreachable):
				s.cfg.Logger.Error("ssh login: API unreachable", "error", err)
				s.fail(sess, "Anavara is temporarily unavailable. Please try again in a minute.")
				return
			default:
				s.cfg.Logger.Error("ssh login failed", "error", err)
				s.fail(sess, "Anavara could not sign you in. Please try again in a minute.")
				return
			}
		}
		sess.Context().SetValue(stateKey{}, st)
		next(sess)
		if st.program != nil {
			s.sessions.untrack(st.program)
			// Ends a program that never ran (the session had no PTY), so a
			// goodbye Shutdown sent it does not wait for it forever.
			st.program.Kill()
		}
		if s.sessions.isClosing() {
			wish.Println(sess, "\r\nThe Anavara server is shutting down. Please reconnect in a minute.")
		}
	}
}

// program builds the terminal UI for a session, with the session's own
// renderer so colours follow the client's terminal, not the server's.
func (s *Server) program(sess ssh.Session) *tea.Program {
	st, ok := sess.Context().Value(stateKey{}).(*sessionState)
	if !ok {
		return nil
	}
	m := tui.New(tui.Options{
		Client:   st.client,
		Renderer: newRenderer(sess),
		SignedIn: st.signedIn,
		SSHKey:   st.authorizedKey,
		// The UI runs on this host, not the user's: it writes no export
		// here and says how to fetch one with the API instead.
		Remote: true,
		APIURL: s.cfg.PublicAPIURL,
		// No blinking cursor or animated spinner: over SSH each blink is a
		// frame sent to every idle client, and that traffic would also keep
		// the idle timeout from ever firing.
		ReduceMotion: true,
	})
	// Without its signal handler: bubbletea would otherwise subscribe every
	// session to the server process's SIGINT and SIGTERM. On shutdown its
	// handler then blocks sending a quit message to a program that Shutdown
	// has already quit, the program never finishes, and the client is left
	// in the alternate screen until the drain wait ends and the connection
	// is cut. Shutdown ends sessions itself, through the registry.
	opts := append(bubbletea.MakeOptions(sess), tea.WithAltScreen(), tea.WithoutSignalHandler())
	p := tea.NewProgram(m, opts...)
	if !s.sessions.track(p, sess) {
		return nil
	}
	st.program = p
	return p
}

// capSessions turns clients away once MaxSessions are open, and sessions
// of keys no account has once they hold MaxAnonymousSessions. It runs after
// identify, which has resolved the key.
func (s *Server) capSessions(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		st, ok := sess.Context().Value(stateKey{}).(*sessionState)
		anonymous := !ok || !st.signedIn
		switch s.sessions.acquire(anonymous) {
		case slotGranted:
		case slotAnonymousFull:
			s.refusals.Warn("ssh session refused: unregistered keys at capacity", "remote", sess.RemoteAddr().String())
			s.fail(sess, "Anavara has too many sign-in sessions open right now. Please try again in a minute; once your SSH key is registered it always finds a place.")
			return
		case slotClosing:
			return // identify says goodbye
		default:
			s.refusals.Warn("ssh session refused: at capacity", "remote", sess.RemoteAddr().String())
			s.fail(sess, "Anavara has too many open sessions right now. Please try again in a minute.")
			return
		}
		defer s.sessions.release(anonymous)
		next(sess)
	}
}

// logSession logs connects and disconnects with their duration.
func (s *Server) logSession(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		start := s.cfg.Now()
		pty, _, hasPTY := sess.Pty()
		s.cfg.Logger.Info("ssh connect", "remote", sess.RemoteAddr().String(), "user", sess.User(),
			"client", sess.Context().ClientVersion(), "pty", hasPTY, "term", pty.Term)
		next(sess)
		s.cfg.Logger.Info("ssh disconnect", "remote", sess.RemoteAddr().String(), "duration", s.cfg.Now().Sub(start).Round(time.Millisecond).String())
	}
}

// fail prints one line to the client and ends the session with status 1.
func (s *Server) fail(sess ssh.Session, msg string) {
	fmt.Fprintln(sess.Stderr(), msg)
	_ = sess.Exit(1)
}
