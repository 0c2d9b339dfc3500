package mail_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/anavara/anavara/mail"
)

func TestNew(t *testing.T) {
	tests := []struct {
		spec     string
		wantType string // "log", "smtp" or "" for an error
		wantErr  string
	}{
		{spec: "", wantType: "log"},
		{spec: "log", wantType: "log"},
		{spec: "smtp://user:s3cret@mail.example.org?from=noreply@example.org", wantType: "smtp"},
		{spec: "smtps://mail.example.org?from=noreply@example.org", wantType: "smtp"},
		{spec: "SMTPS://mail.example.org?from=noreply@example.org", wantType: "smtp"},
		{spec: "smtp://user:s3cret@mail.example.org", wantErr: "missing from"},
		{spec: "console", wantErr: `want "log", "smtp://`},
		{spec: "smpt://user:s3cret@mail.example.org?from=noreply@example.org", wantErr: `scheme "smpt"`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			m, err := mail.New(tt.spec, slog.New(slog.DiscardHandler))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("New succeeded with %T, want error", m)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("New error = %q, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("New error leaks the password: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			switch m.(type) {
			case *mail.LogMailer:
				if tt.wantType != "log" {
					t.Errorf("New returned %T, want %s mailer", m, tt.wantType)
				}
			case *mail.SMTPMailer:
				if tt.wantType != "smtp" {
					t.Errorf("New returned %T, want %s mailer", m, tt.wantType)
				}
			default:
				t.Errorf("New returned %T", m)
			}
		})
	}
}

func TestLogMailer(t *testing.T) {
	var buf bytes.Buffer
	m := mail.NewLogMailer(slog.New(slog.NewJSONHandler(&buf, nil)))
	msg := mail.Message{
		To:      "zoe@example.org",
		Subject: "Passwort zurücksetzen",
		Body:    "Ihr Code lautet 493120.\n",
	}
	if err := m.Send(t.Context(), msg); err != nil {
		t.Fatalf("Send: %v", err)
	}

	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log output %q is not one JSON record: %v", buf.String(), err)
	}
	want := map[string]string{
		"level":   "INFO",
		"to":      msg.To,
		"subject": msg.Subject,
		"body":    msg.Body,
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("log attribute %s = %#v, want %q", k, rec[k], v)
		}
	}
}

func TestLogMailerRejectsHeaderInjection(t *testing.T) {
	var buf bytes.Buffer
	m := mail.NewLogMailer(slog.New(slog.NewTextHandler(&buf, nil)))
	err := m.Send(t.Context(), mail.Message{To: "zoe@example.org\nBcc: eve@example.org", Body: "x"})
	if !errors.Is(err, mail.ErrInvalidHeader) {
		t.Errorf("Send error = %v, want ErrInvalidHeader", err)
	}
	if buf.Len() != 0 {
		t.Errorf("rejected message was logged: %q", buf.String())
	}
}
