// Package mail sends the outgoing email of the system, which today is only
// the one-time codes of the password-reset flow.
//
// Callers depend on the small [Mailer] interface and pick an implementation
// at start-up with [New]: [LogMailer] for development, where the code is read
// from the server log, and [SMTPMailer] for production. [Capture] lets tests
// in other packages receive the mail without a server.
package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Message is a plain-text email to a single recipient. Reset codes go to one
// user at a time, so there is deliberately no Cc, Bcc or HTML part.
type Message struct {
	// To is the recipient's address, e.g. "alice@example.org" or
	// "Alice <alice@example.org>".
	To string
	// Subject is free text; non-ASCII is allowed and encoded on the wire.
	Subject string
	// Body is UTF-8 text. Lines may end in "\n" or "\r\n".
	Body string
}

// Mailer delivers a message. Implementations must be safe for concurrent use
// because HTTP and SSH handlers share one Mailer.
type Mailer interface {
	// Send returns once the message has been handed over, or with an error
	// if it was not. It gives up when ctx is done.
	Send(ctx context.Context, m Message) error
}

// ErrInvalidHeader is returned (wrapped) by every Mailer when a Message's To
// or Subject could smuggle extra header lines into the email. All
// implementations reject the same messages so that a bug caught by
// production SMTP is also caught in development and in tests.
var ErrInvalidHeader = errors.New("invalid mail header")

// validate rejects messages that no Mailer may send.
func (m Message) validate() error {
	if strings.TrimSpace(m.To) == "" {
		return fmt.Errorf("mail: %w: empty recipient", ErrInvalidHeader)
	}
	if strings.ContainsAny(m.To, "\r\n") {
		return fmt.Errorf("mail: %w: recipient contains a line break", ErrInvalidHeader)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return fmt.Errorf("mail: %w: subject contains a line break", ErrInvalidHeader)
	}
	return nil
}

// New returns the Mailer described by spec, the value of the server's mail
// setting:
//
//   - "" or "log": a [LogMailer] writing to logger, the development default;
//   - "smtp://user:pass@host:port?from=addr" and "smtps://…": an
//     [SMTPMailer] configured by [ParseURL].
func New(spec string, logger *slog.Logger) (Mailer, error) {
	switch {
	case spec == "" || spec == "log":
		return NewLogMailer(logger), nil
	case hasSchemePrefix(spec, "smtp") || hasSchemePrefix(spec, "smtps"):
		cfg, err := ParseURL(spec)
		if err != nil {
			return nil, err
		}
		return NewSMTPMailer(cfg), nil
	}
	// Only the scheme is echoed: the spec may carry a password.
	what := "unsupported mailer"
	if scheme, _, ok := strings.Cut(spec, "://"); ok {
		what = fmt.Sprintf("unsupported mailer scheme %q", scheme)
	}
	return nil, fmt.Errorf(`mail: %s: want "log", "smtp://user:pass@host:port?from=addr" or "smtps://user:pass@host:port?from=addr"`, what)
}

func hasSchemePrefix(s, scheme string) bool {
	p := scheme + "://"
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p)
}
