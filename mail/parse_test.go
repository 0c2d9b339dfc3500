package mail_test

import (
	"strings"
	"testing"

	"github.com/anavara/anavara/mail"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw  string
		want mail.SMTPConfig
	}{
		{
			raw: "smtp://user:pass@mail.example.org:2525?from=noreply@example.org",
			want: mail.SMTPConfig{Host: "mail.example.org", Port: 2525, Username: "user", Password: "pass",
				From: "noreply@example.org", RequireTLS: true},
		},
		{
			raw:  "smtp://mail.example.org?from=noreply@example.org",
			want: mail.SMTPConfig{Host: "mail.example.org", Port: 587, From: "noreply@example.org", RequireTLS: true},
		},
		{
			raw: "smtps://user:pass@mail.example.org?from=noreply@example.org",
			want: mail.SMTPConfig{Host: "mail.example.org", Port: 465, Username: "user", Password: "pass",
				From: "noreply@example.org", ImplicitTLS: true},
		},
		{
			raw:  "smtps://mail.example.org:4650/?from=noreply@example.org",
			want: mail.SMTPConfig{Host: "mail.example.org", Port: 4650, From: "noreply@example.org", ImplicitTLS: true},
		},
		{
			raw:  "SMTP://Mail.Example.ORG?from=noreply@example.org",
			want: mail.SMTPConfig{Host: "mail.example.org", Port: 587, From: "noreply@example.org", RequireTLS: true},
		},
		// Loopback relays commonly run without TLS.
		{
			raw:  "smtp://localhost:1025?from=noreply@example.org",
			want: mail.SMTPConfig{Host: "localhost", Port: 1025, From: "noreply@example.org"},
		},
		{
			raw:  "smtp://127.0.0.1:25?from=noreply@example.org",
			want: mail.SMTPConfig{Host: "127.0.0.1", Port: 25, From: "noreply@example.org"},
		},
		{
			raw:  "smtp://[::1]?from=noreply@example.org",
			want: mail.SMTPConfig{Host: "::1", Port: 587, From: "noreply@example.org"},
		},
		// A name that merely resolves to loopback is not trusted.
		{
			raw:  "smtp://127.0.0.2?from=noreply@example.org",
			want: mail.SMTPConfig{Host: "127.0.0.2", Port: 587, From: "noreply@example.org", RequireTLS: true},
		},
		{
			raw: "smtp://us%40er%2Bx:p%40ss%3Aw%2Fo%25rd%23%3F%20@mail.example.org?from=noreply@example.org",
			want: mail.SMTPConfig{Host: "mail.example.org", Port: 587, Username: "us@er+x", Password: "p@ss:w/o%rd#? ",
				From: "noreply@example.org", RequireTLS: true},
		},
		{
			raw: "smtp://mail.example.org?from=Anavara%20%3Cnoreply%40example.org%3E",
			want: mail.SMTPConfig{Host: "mail.example.org", Port: 587, From: "Anavara <noreply@example.org>",
				RequireTLS: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := mail.ParseURL(tt.raw)
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			if got != tt.want {
				t.Errorf("ParseURL =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	tests := []struct {
		name, raw, wantErr string
	}{
		{"missing from", "smtp://user:s3cret@mail.example.org", "missing from"},
		{"empty from", "smtp://mail.example.org?from=", "missing from"},
		{"bad from", "smtp://mail.example.org?from=not-an-address", "from address"},
		{"bad scheme", "http://mail.example.org?from=noreply@example.org", `scheme "http"`},
		{"no scheme", "mail.example.org:25?from=noreply@example.org", "scheme"},
		{"opaque", "smtp:mail.example.org?from=noreply@example.org", "no path"},
		{"path", "smtp://mail.example.org/inbox?from=noreply@example.org", "no path"},
		{"missing host", "smtp://?from=noreply@example.org", "missing host"},
		{"port zero", "smtp://mail.example.org:0?from=noreply@example.org", "invalid port"},
		{"port too large", "smtp://mail.example.org:70000?from=noreply@example.org", "invalid port"},
		{"user without password", "smtp://user@mail.example.org?from=noreply@example.org", "password"},
		{"unknown parameter", "smtp://mail.example.org?from=noreply@example.org&insecure_skip_verify=true", "insecure_skip_verify"},
		{"unparseable", "smtp://user:s3cret@mail.example.org:25%zz?from=noreply@example.org", "parsing SMTP URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mail.ParseURL(tt.raw)
			if err == nil {
				t.Fatalf("ParseURL(%q) succeeded, want error", tt.raw)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseURL error = %q, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("ParseURL error leaks the password: %q", err)
			}
		})
	}
}

func TestSMTPConfigStringRedactsPassword(t *testing.T) {
	cfg, err := mail.ParseURL("smtps://user:s3cret@mail.example.org?from=noreply@example.org")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{cfg.String(), mail.NewSMTPMailer(cfg).String()} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("String() = %q leaks the password", s)
		}
		if !strings.Contains(s, "smtps://user:") || !strings.Contains(s, "mail.example.org:465") {
			t.Errorf("String() = %q, want scheme, user, host and port", s)
		}
	}
}
