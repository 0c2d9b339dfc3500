package mail

import (
	"context"
	"log/slog"
)

// LogMailer writes each message to a logger instead of sending it, like
// Django's console email backend. It is the development default: the reset
// code shows up in the server log, so no mail server is needed to try the
// flow. Never use it in production, where the log would hold live codes.
type LogMailer struct {
	logger *slog.Logger
}

// NewLogMailer returns a LogMailer writing to logger, or to [slog.Default]
// if logger is nil.
func NewLogMailer(logger *slog.Logger) *LogMailer {
	if logger == nil {
		logger = slog.Default()
	}
	return &LogMailer{logger: logger}
}

// Send logs m at Info level with its recipient, subject and body as
// attributes. It rejects the same malformed messages as [SMTPMailer] so that
// such bugs surface in development.
func (l *LogMailer) Send(ctx context.Context, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	l.logger.InfoContext(ctx, "email",
		slog.String("to", m.To),
		slog.String("subject", m.Subject),
		slog.String("body", m.Body),
	)
	return nil
}
