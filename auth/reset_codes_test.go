package auth_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/mail"
)

// TestResetCodesMailOnlyExistingAccounts: requests for an account and for
// an unknown address are both stored; the worker mails a code to the
// account alone, stores its hash, and leaves the outbox empty once stopped.
func TestResetCodesMailOnlyExistingAccounts(t *testing.T) {
	store, _ := testenv.OpenStore(t, sqlite.Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	clock := testenv.NewClock(time.Date(2030, 1, 15, 9, 0, 0, 0, time.UTC))
	u := testenv.CreateStaff(t, store, "sam@example.org", "Quiet-Harbour-51", fastParams, clock.Now())
	capture := mail.NewCapture()
	otp := auth.NewOTPHasher([]auth.JWTKey{keyA})
	codes := auth.NewResetCodes(store, capture, otp, slog.New(slog.DiscardHandler), clock.Now, 5*time.Minute, time.Hour)
	codes.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for _, email := range []string{"nobody@example.org", u.Email} {
		if err := codes.Request(ctx, email, "192.0.2.7", "req-"+email, clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	msg, err := capture.WaitFor(ctx, u.Email)
	if err != nil {
		t.Fatalf("no code mailed: %v", err)
	}
	if err := codes.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(msg.Body)
	stored, err := store.Read().ActiveOTP(ctx, u.ID, clock.Now(), 5)
	if err != nil {
		t.Fatalf("no code stored: %v", err)
	}
	if !otp.Matches(stored.Hash, u.ID, code) {
		t.Fatalf("the mailed code %q does not match the stored hash", code)
	}
	if n := len(capture.Messages()); n != 1 {
		t.Fatalf("%d messages mailed, want 1 (none to the unknown address)", n)
	}
	if due, err := store.Read().ResetRequestsDue(ctx, clock.Now().Add(24*time.Hour)); err != nil || due {
		t.Fatalf("requests left in the outbox: %v, %v", due, err)
	}
}
