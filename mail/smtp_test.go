package mail_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/anavara/anavara/mail"
)

// received is one message as the test server saw it.
type received struct {
	from   string
	rcpts  []string
	data   []byte
	tls    bool
	authed bool
}

// backend is a go-smtp Backend that accepts mail only from an authenticated
// session (when user is set) and records what it accepted.
type backend struct {
	user, pass string

	mu   sync.Mutex
	msgs []received
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	// go-smtp opens a fresh session after STARTTLS, so this sees the
	// upgraded connection.
	_, isTLS := c.TLSConnectionState()
	return &session{be: b, tls: isTLS}, nil
}

func (b *backend) messages() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.msgs...)
}

type session struct {
	be     *backend
	tls    bool
	authed bool
	from   string
	rcpts  []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.be.user || password != s.be.pass {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.be.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.be.mu.Lock()
	defer s.be.mu.Unlock()
	s.be.msgs = append(s.be.msgs, received{
		from: s.from, rcpts: s.rcpts, data: data, tls: s.tls, authed: s.authed,
	})
	return nil
}

func (s *session) Reset() {
	s.from = ""
	s.rcpts = nil
}

func (s *session) Logout() error { return nil }

// serverMode selects how the test server offers TLS.
type serverMode int

const (
	plainServer    serverMode = iota // no TLS at all
	startTLSServer                   // offers STARTTLS, AUTH only after it
	implicitServer                   // TLS from the first byte (smtps)
)

// startServer runs a go-smtp server on 127.0.0.1 and returns its backend
// and port.
func startServer(t *testing.T, mode serverMode, cert tls.Certificate, user, pass string) (*backend, int) {
	t.Helper()
	be := &backend{user: user, pass: pass}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)

	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	var (
		l   net.Listener
		err error
	)
	switch mode {
	case plainServer:
		srv.AllowInsecureAuth = true
		l, err = net.Listen("tcp", "127.0.0.1:0")
	case startTLSServer:
		srv.TLSConfig = tlsCfg
		l, err = net.Listen("tcp", "127.0.0.1:0")
	case implicitServer:
		l, err = tls.Listen("tcp", "127.0.0.1:0", tlsCfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return be, l.Addr().(*net.TCPAddr).Port
}

// selfSigned returns a certificate for localhost/127.0.0.1/::1 and a pool
// that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "anavara mail test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

const (
	testUser = "reset@anavara"
	testPass = "p@ss:w/rd%1"
	testFrom = "Anavara <noreply@example.org>"
)

// testMessage exercises the encodings: a non-ASCII subject and display
// name, a line longer than quoted-printable allows, a line starting with a
// dot (SMTP dot-stuffing), trailing spaces and non-ASCII body text.
var testMessage = mail.Message{
	To:      "Zoë Müller <zoe@example.org>",
	Subject: "Passwort zurücksetzen: Ihr Code",
	Body: "Guten Tag,\n\nIhr Code lautet 493 120.  \n" +
		".Diese Zeile beginnt mit einem Punkt.\n" +
		strings.Repeat("lange Zeile ", 20) + "\nGrüße\n",
}

func TestSMTPMailerDelivery(t *testing.T) {
	cert, roots := selfSigned(t)

	tests := []struct {
		name    string
		mode    serverMode
		cfg     func(port int) mail.SMTPConfig
		msg     mail.Message
		wantTLS bool
		wantErr string // substring; empty means success
		wantIs  error
	}{
		{
			name: "plain on loopback with AUTH PLAIN",
			mode: plainServer,
			cfg: func(port int) mail.SMTPConfig {
				cfg := mustParse(t, fmt.Sprintf("smtp://%s@127.0.0.1:%d?from=%s",
					url.UserPassword(testUser, testPass), port, url.QueryEscape(testFrom)))
				if cfg.RequireTLS {
					t.Fatal("ParseURL required TLS for a loopback host")
				}
				return cfg
			},
			msg: testMessage,
		},
		{
			name: "STARTTLS with trusted self-signed certificate",
			mode: startTLSServer,
			cfg: func(port int) mail.SMTPConfig {
				return mail.SMTPConfig{
					Host: "127.0.0.1", Port: port, Username: testUser, Password: testPass,
					From: testFrom, RequireTLS: true, TLSConfig: &tls.Config{RootCAs: roots},
				}
			},
			msg:     testMessage,
			wantTLS: true,
		},
		{
			name: "implicit TLS",
			mode: implicitServer,
			cfg: func(port int) mail.SMTPConfig {
				return mail.SMTPConfig{
					Host: "localhost", Port: port, Username: testUser, Password: testPass,
					From: testFrom, ImplicitTLS: true, TLSConfig: &tls.Config{RootCAs: roots},
				}
			},
			msg:     testMessage,
			wantTLS: true,
		},
		{
			name: "wrong password",
			mode: plainServer,
			cfg: func(port int) mail.SMTPConfig {
				return mail.SMTPConfig{
					Host: "127.0.0.1", Port: port, Username: testUser, Password: "wrong",
					From: testFrom,
				}
			},
			msg:     testMessage,
			wantErr: "535",
		},
		{
			name: "STARTTLS required but not offered",
			mode: plainServer,
			cfg: func(port int) mail.SMTPConfig {
				return mail.SMTPConfig{
					Host: "127.0.0.1", Port: port, Username: testUser, Password: testPass,
					From: testFrom, RequireTLS: true,
				}
			},
			msg:     testMessage,
			wantErr: "STARTTLS",
		},
		{
			name: "STARTTLS with untrusted certificate",
			mode: startTLSServer,
			cfg: func(port int) mail.SMTPConfig {
				return mail.SMTPConfig{
					Host: "127.0.0.1", Port: port, Username: testUser, Password: testPass,
					From: testFrom, RequireTLS: true,
				}
			},
			msg:     testMessage,
			wantErr: "certificate",
		},
		{
			name: "implicit TLS with certificate for another name",
			mode: implicitServer,
			cfg: func(port int) mail.SMTPConfig {
				return mail.SMTPConfig{
					Host: "127.0.0.1", Port: port, From: testFrom, ImplicitTLS: true,
					TLSConfig: &tls.Config{RootCAs: roots, ServerName: "mail.example.org"},
				}
			},
			msg:     testMessage,
			wantErr: "certificate",
		},
		{
			name: "header injection in recipient",
			mode: plainServer,
			cfg: func(port int) mail.SMTPConfig {
				return mail.SMTPConfig{Host: "127.0.0.1", Port: port, From: testFrom}
			},
			msg:    mail.Message{To: "zoe@example.org\r\nBcc: eve@example.org", Subject: "x", Body: "x"},
			wantIs: mail.ErrInvalidHeader,
		},
		{
			name: "header injection in subject",
			mode: plainServer,
			cfg: func(port int) mail.SMTPConfig {
				return mail.SMTPConfig{Host: "127.0.0.1", Port: port, From: testFrom}
			},
			msg:    mail.Message{To: "zoe@example.org", Subject: "Code\nBcc: eve@example.org", Body: "x"},
			wantIs: mail.ErrInvalidHeader,
		},
		{
			name: "unparseable recipient",
			mode: plainServer,
			cfg: func(port int) mail.SMTPConfig {
				return mail.SMTPConfig{Host: "127.0.0.1", Port: port, From: testFrom}
			},
			msg:    mail.Message{To: "zoe@example.org>, eve@example.org", Subject: "x", Body: "x"},
			wantIs: mail.ErrInvalidHeader,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be, port := startServer(t, tt.mode, cert, testUser, testPass)
			m := mail.NewSMTPMailer(tt.cfg(port))

			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			err := m.Send(ctx, tt.msg)

			if tt.wantErr != "" || tt.wantIs != nil {
				if err == nil {
					t.Fatal("Send succeeded, want error")
				}
				if tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Send error = %q, want it to contain %q", err, tt.wantErr)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Errorf("Send error = %v, want errors.Is %v", err, tt.wantIs)
				}
				if strings.Contains(err.Error(), testPass) {
					t.Errorf("Send error leaks the password: %v", err)
				}
				if got := be.messages(); len(got) != 0 {
					t.Errorf("server accepted %d messages despite the error", len(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}

			got := be.messages()
			if len(got) != 1 {
				t.Fatalf("server received %d messages, want 1", len(got))
			}
			r := got[0]
			if r.tls != tt.wantTLS {
				t.Errorf("session TLS = %v, want %v", r.tls, tt.wantTLS)
			}
			if !r.authed {
				t.Error("message was accepted without AUTH")
			}
			checkDelivered(t, r, tt.msg)
		})
	}
}

// checkDelivered asserts the envelope, headers and decoded body of r.
func checkDelivered(t *testing.T, r received, want mail.Message) {
	t.Helper()
	if r.from != "noreply@example.org" {
		t.Errorf("envelope sender = %q, want noreply@example.org", r.from)
	}
	wantTo, err := netmail.ParseAddress(want.To)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.rcpts) != 1 || r.rcpts[0] != wantTo.Address {
		t.Errorf("envelope recipients = %q, want [%q]", r.rcpts, wantTo.Address)
	}

	for i, b := range r.data {
		if b >= 0x80 {
			t.Fatalf("byte %d of the message is not 7-bit: %q", i, r.data)
		}
	}
	for line := range strings.SplitSeq(strings.TrimSuffix(string(r.data), "\r\n"), "\r\n") {
		if strings.ContainsAny(line, "\r\n") {
			t.Errorf("bare CR or LF in line %q", line)
		}
		if len(line) > 78 {
			t.Errorf("line longer than 78 characters: %q", line)
		}
	}

	msg, err := netmail.ReadMessage(bytes.NewReader(r.data))
	if err != nil {
		t.Fatalf("parsing delivered message: %v\n%s", err, r.data)
	}
	h := msg.Header

	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Anavara" || from[0].Address != "noreply@example.org" {
		t.Errorf("From = %q (%v), want Anavara <noreply@example.org>", h.Get("From"), err)
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != wantTo.Name || to[0].Address != wantTo.Address {
		t.Errorf("To = %q (%v), want %q", h.Get("To"), err, want.To)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != want.Subject {
		t.Errorf("Subject = %q decoded to %q (%v), want %q", h.Get("Subject"), subject, err, want.Subject)
	}
	if date, err := h.Date(); err != nil || time.Since(date).Abs() > time.Minute {
		t.Errorf("Date = %q (%v), want about now", h.Get("Date"), err)
	}
	if id := h.Get("Message-ID"); !regexp.MustCompile(`^<[^<>@\s]+@example\.org>$`).MatchString(id) {
		t.Errorf("Message-ID = %q, want <unique@example.org>", id)
	}
	for k, v := range map[string]string{
		"MIME-Version":              "1.0",
		"Content-Type":              "text/plain; charset=UTF-8",
		"Content-Transfer-Encoding": "quoted-printable",
	} {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}

	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("decoding body: %v", err)
	}
	if wantBody := strings.ReplaceAll(want.Body, "\n", "\r\n"); string(body) != wantBody {
		t.Errorf("decoded body = %q, want %q", body, wantBody)
	}
}

func mustParse(t *testing.T, raw string) mail.SMTPConfig {
	t.Helper()
	cfg, err := mail.ParseURL(raw)
	if err != nil {
		t.Fatalf("ParseURL(%q): %v", raw, err)
	}
	return cfg
}

// TestSMTPMailerStalledServer checks that a server which accepts the
// connection but never greets cannot block Send beyond its timeout or the
// caller's cancellation.
func TestSMTPMailerStalledServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var conns sync.WaitGroup
	conns.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			// Hold the connection open without a word until the
			// client hangs up.
			conns.Go(func() { io.Copy(io.Discard, c); c.Close() })
		}
	})
	t.Cleanup(func() { l.Close(); conns.Wait() })
	port := l.Addr().(*net.TCPAddr).Port

	t.Run("timeout", func(t *testing.T) {
		m := mail.NewSMTPMailer(mail.SMTPConfig{
			Host: "127.0.0.1", Port: port, From: testFrom, Timeout: 200 * time.Millisecond,
		})
		start := time.Now()
		err := m.Send(t.Context(), mail.Message{To: "zoe@example.org", Subject: "x", Body: "x"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Send error = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Send took %v despite a 200ms timeout", d)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		m := mail.NewSMTPMailer(mail.SMTPConfig{Host: "127.0.0.1", Port: port, From: testFrom})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(100*time.Millisecond, cancel)
		err := m.Send(ctx, mail.Message{To: "zoe@example.org", Subject: "x", Body: "x"})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Send error = %v, want context.Canceled", err)
		}
	})
}
