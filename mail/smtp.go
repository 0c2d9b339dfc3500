package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/smtp"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds a whole SMTP delivery when [SMTPConfig.Timeout] is
// zero, so a stalled server cannot hold a password-reset request forever.
const DefaultTimeout = 30 * time.Second

// SMTPConfig describes how [SMTPMailer] reaches its submission server.
// [ParseURL] builds one from the server's configuration string.
type SMTPConfig struct {
	// Host is the server's name or IP address; it is also the name the
	// server's TLS certificate must match.
	Host string
	// Port is the TCP port, usually 587 (STARTTLS) or 465 (implicit TLS).
	Port int
	// Username and Password, when Username is set, are sent with AUTH
	// PLAIN, which is refused unless the connection is TLS or the host is
	// a loopback name.
	Username string
	Password string
	// From is the sender, e.g. "noreply@example.org" or
	// "Anavara <noreply@example.org>"; it is used for both the envelope
	// and the From header.
	From string
	// ImplicitTLS starts TLS as soon as the connection opens (smtps, port
	// 465) instead of upgrading with STARTTLS.
	ImplicitTLS bool
	// RequireTLS makes Send fail rather than deliver in clear text when the
	// server does not offer STARTTLS. Without it STARTTLS is still used
	// whenever offered.
	RequireTLS bool
	// TLSConfig, if non-nil, is cloned for every connection; tests use it to
	// trust their own CA through RootCAs. ServerName defaults to Host.
	// There is deliberately no switch to skip certificate verification.
	TLSConfig *tls.Config
	// Timeout bounds dialling and the whole exchange with the server;
	// zero means [DefaultTimeout].
	Timeout time.Duration
}

// String formats c as a URL with the password redacted, so that logging a
// configuration cannot leak the credential.
func (c SMTPConfig) String() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	if c.ImplicitTLS {
		u.Scheme = "smtps"
	}
	if c.Username != "" {
		u.User = url.UserPassword(c.Username, "xxxxx")
	}
	if c.From != "" {
		u.RawQuery = url.Values{"from": {c.From}}.Encode()
	}
	return u.String()
}

// ParseURL parses an SMTP configuration string:
//
//	smtp://user:pass@host:port?from=noreply@example.org
//	smtps://user:pass@host:port?from=noreply@example.org
//
// smtp uses STARTTLS whenever the server offers it and requires it unless
// the host is a loopback name ("localhost", "127.0.0.1", "::1"), where a
// local relay without TLS is common; the default port is 587. smtps uses
// implicit TLS and defaults to port 465. User and password are optional
// and must be percent-encoded if they contain reserved characters. The from
// parameter is required; unknown parameters are rejected so that a typo,
// or an attempt to switch off certificate checks, does not pass silently.
func ParseURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL, password included; keep only
		// the reason.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return SMTPConfig{}, fmt.Errorf("mail: parsing SMTP URL: %w", err)
	}

	var cfg SMTPConfig
	defaultPort := 0
	switch u.Scheme {
	case "smtp":
		defaultPort = 587
	case "smtps":
		defaultPort = 465
		cfg.ImplicitTLS = true
	default:
		return SMTPConfig{}, fmt.Errorf("mail: SMTP URL scheme %q: want smtp or smtps", u.Scheme)
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return SMTPConfig{}, errors.New("mail: SMTP URL: want scheme://[user:pass@]host[:port]?from=address with no path or fragment")
	}

	cfg.Host = strings.ToLower(u.Hostname())
	if cfg.Host == "" {
		return SMTPConfig{}, errors.New("mail: SMTP URL: missing host")
	}
	cfg.Port = defaultPort
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTPConfig{}, fmt.Errorf("mail: SMTP URL: invalid port %q", p)
		}
		cfg.Port = n
	}

	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
		if cfg.Username == "" || cfg.Password == "" {
			return SMTPConfig{}, errors.New("mail: SMTP URL: user and password must both be set, or neither")
		}
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return SMTPConfig{}, fmt.Errorf("mail: SMTP URL query: %w", err)
	}
	for k := range q {
		if k != "from" {
			return SMTPConfig{}, fmt.Errorf("mail: SMTP URL: unknown parameter %q (only from is accepted)", k)
		}
	}
	cfg.From = q.Get("from")
	if cfg.From == "" {
		return SMTPConfig{}, errors.New("mail: SMTP URL: missing from parameter, e.g. ?from=noreply@example.org")
	}
	if _, err := netmail.ParseAddress(cfg.From); err != nil {
		return SMTPConfig{}, fmt.Errorf("mail: SMTP URL: from address %q: %w", cfg.From, err)
	}

	cfg.RequireTLS = !cfg.ImplicitTLS && !isLoopback(cfg.Host)
	return cfg, nil
}

// isLoopback reports whether host is one of the names net/smtp's PlainAuth
// trusts without TLS. Using exactly its list keeps our TLS requirement and
// its AUTH policy from disagreeing.
func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// SMTPMailer delivers messages to an SMTP submission server, opening one
// connection per message: reset codes are rare, and a fresh connection
// needs no keep-alive or reconnect logic. It is safe for concurrent use.
type SMTPMailer struct {
	cfg SMTPConfig
}

// NewSMTPMailer returns a mailer using cfg. The configuration is checked on
// each Send rather than here, so a bad From address surfaces as a Send
// error.
func NewSMTPMailer(cfg SMTPConfig) *SMTPMailer {
	return &SMTPMailer{cfg: cfg}
}

// String describes the mailer without its password.
func (s *SMTPMailer) String() string {
	return "SMTPMailer(" + s.cfg.String() + ")"
}

// Send delivers m. It returns nil once the server has accepted the message
// for delivery; an error from the final QUIT is ignored since by then the
// message is the server's responsibility.
func (s *SMTPMailer) Send(ctx context.Context, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	from, err := netmail.ParseAddress(s.cfg.From)
	if err != nil {
		return fmt.Errorf("mail: sender %q: %w", s.cfg.From, err)
	}
	to, err := netmail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("mail: %w: recipient %q: %w", ErrInvalidHeader, m.To, err)
	}
	msg := buildMessage(from, to, m, time.Now())

	timeout := s.cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	if err := s.deliver(ctx, from.Address, to.Address, msg); err != nil {
		// A deadline or cancellation shows up as an opaque I/O error;
		// report the reason the caller can act on as well.
		ctxErr := ctx.Err()
		if ctxErr == nil && errors.Is(err, os.ErrDeadlineExceeded) {
			// The connection deadline is ctx's, and may fire a moment
			// before ctx's own timer does.
			ctxErr = context.DeadlineExceeded
		}
		if ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
		return fmt.Errorf("mail: sending to %s via %s: %w", to.Address, s.addr(), err)
	}
	return nil
}

func (s *SMTPMailer) addr() string {
	return net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
}

func (s *SMTPMailer) tlsConfig() *tls.Config {
	var c *tls.Config
	if s.cfg.TLSConfig != nil {
		c = s.cfg.TLSConfig.Clone()
	} else {
		c = &tls.Config{}
	}
	if c.ServerName == "" {
		c.ServerName = s.cfg.Host
	}
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// deliver runs one SMTP transaction; ctx must carry a deadline.
func (s *SMTPMailer) deliver(ctx context.Context, from, to string, msg []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr())
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	// net/smtp has no context support, so the deadline bounds every read
	// and write, and cancellation moves it to the past to unblock them.
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(deadline); err != nil {
			conn.Close()
			return err
		}
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if s.cfg.ImplicitTLS {
		tc := tls.Client(conn, s.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			tc.Close()
			return fmt.Errorf("TLS handshake: %w", err)
		}
		conn = tc
	}

	// The host name given here is what PlainAuth checks before sending the
	// password, so it must be the configured host.
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()

	if !s.cfg.ImplicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tlsConfig()); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
		} else if s.cfg.RequireTLS {
			return errors.New("server does not offer STARTTLS and TLS is required")
		}
	}

	if s.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("credentials configured but server does not offer AUTH")
		}
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}

	if err := c.Mail(from); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		w.Close()
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	_ = c.Quit()
	return nil
}

// buildMessage renders m as an RFC 5322 message with CRLF line endings. The
// body is quoted-printable so that any UTF-8 text survives 7-bit relays and
// no line exceeds the SMTP limit.
func buildMessage(from, to *netmail.Address, m Message, now time.Time) []byte {
	var b bytes.Buffer
	header := func(k, v string) {
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteString("\r\n")
	}
	// Address.String Q-encodes non-ASCII display names.
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID(from.Address))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")

	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(m.Body)) // writes to a bytes.Buffer cannot fail
	qp.Close()
	if !strings.HasSuffix(m.Body, "\n") {
		// SMTP DATA must end at a line boundary.
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// messageID returns a unique Message-ID in the sender's domain, which is
// where RFC 5322 suggests uniqueness be anchored.
func messageID(from string) string {
	domain := "localhost"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		domain = from[i+1:]
	}
	return "<" + rand.Text() + "@" + domain + ">"
}
