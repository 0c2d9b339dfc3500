package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/ratelimit"
)

// TestLimitersKeepTheirNames: each limiter is made under the name its
// state is shared by on PostgreSQL and its metrics are labelled with, and
// applies its own rule: the first check of one key is allowed, the second,
// past a limit of one, is not.
func TestLimitersKeepTheirNames(t *testing.T) {
	clock := testenv.NewClock(time.Date(2030, 1, 15, 9, 0, 0, 0, time.UTC))
	one := ratelimit.Rule{Limit: 1, Window: time.Hour}
	rules := auth.Limits{
		LoginPerIPAndEmail: one, SignupPerIP: one, ForgotPerEmail: one, ForgotPerIP: one, ResetPerEmail: one,
		RefreshPerIP: one, ChangePasswordPerUser: one, SSHConnectionsPerIP: one,
		LoginFailuresPerAccount: ratelimit.BackoffRule{Threshold: 1, Window: time.Hour, Base: time.Minute, Max: time.Hour},
	}
	recorder := ratelimit.NewRecorder(ratelimit.Memory{}, false)
	l := auth.NewLimiters(recorder, rules, clock.Now)
	ctx := context.Background()
	counters := map[string]ratelimit.Counter{
		"login": l.Login, "signup": l.Signup, "forgot-email": l.ForgotEmail, "forgot-ip": l.ForgotIP, "reset": l.Reset,
		"refresh": l.Refresh, "change-password": l.ChangePassword, auth.SSHConnectLimit: l.SSHConnect,
	}
	for name, c := range counters {
		if ok, _, err := c.Allow(ctx, "k"); !ok || err != nil {
			t.Fatalf("%s: first check refused: %v", name, err)
		}
		if ok, _, err := c.Allow(ctx, "k"); ok || err != nil {
			t.Fatalf("%s: second check allowed past a limit of one: %v", name, err)
		}
	}
	if err := l.AccountBackoff.Fail(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if blocked, _, err := l.AccountBackoff.Blocked(ctx, "k"); !blocked || err != nil {
		t.Fatalf("login-account: not blocked after the threshold: %v", err)
	}
	got := map[string]uint64{}
	for _, d := range recorder.Decisions() {
		got[d.Limit+" "+d.Outcome] = d.Count
	}
	for name := range counters {
		if got[name+" "+ratelimit.OutcomeAllowed] != 1 || got[name+" "+ratelimit.OutcomeLimited] != 1 {
			t.Errorf("limit %q: decisions %v, want one allowed and one limited", name, got)
		}
	}
	if got["login-account "+ratelimit.OutcomeBlocked] != 1 {
		t.Errorf("login-account: decisions %v, want one blocked", got)
	}
	if auth.SSHConnectLimit != "ssh-connect" {
		t.Errorf("SSHConnectLimit = %q, want ssh-connect (the name sshapp uses)", auth.SSHConnectLimit)
	}
}
