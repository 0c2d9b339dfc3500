package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/anavara/anavara/db/postgres/pgtest"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/mail"
	"github.com/anavara/anavara/server"
)

// twin is another server on h's database, as a second anavara serve would
// be: its own store (so its own pool and listener), the same secrets,
// clock and limits, answering through its own Fiber app.
func (h *harness) twin() *harness {
	h.t.Helper()
	setup := newHarnessSetup(h.clock, nil)
	store := testenv.OpenAgain(h.t, h.target)
	srv, err := server.New(setup.cfg, store, mail.NewCapture())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return &harness{t: h.t, srv: srv, store: store, target: h.target, mail: h.mail, clock: h.clock, passwordParams: setup.cfg.PasswordParams}
}

// onPostgresOnly skips t unless it runs on PostgreSQL, where several
// servers share one database and hear of each other's changes to users.
func onPostgresOnly(t *testing.T) {
	t.Helper()
	if !testenv.OnPostgres() {
		t.Skip("servers hear of each other's changes to users on PostgreSQL; on SQLite one process serves a database")
	}
}

// An account change made through server A applies to server B's next
// request, though B had the account's row cached: the change's
// announcement reaches B when it commits, and B's cache drops the row.
// The test waits for that announcement to arrive (an event, not a time)
// and then asserts on B's very next request; the clock stands still, so
// the cache's two-second bound never ends for it.
func TestAccountChangesApplyOnAnotherInstance(t *testing.T) {
	onPostgresOnly(t)
	tests := []struct {
		name string
		// staff is whether the account starts as staff.
		staff bool
		// change alters account a through server A.
		change func(a *harness, subject, admin account)
		// path is what the account asks server B, before (200) and after
		// the change (want).
		path string
		want int
	}{
		{
			name: "deactivated",
			change: func(a *harness, subject, admin account) {
				a.patch("/api/users/"+subject.ID, map[string]any{"is_active": false}, admin.Access).expect(http.StatusOK)
			},
			path: "/api/users/me", want: http.StatusUnauthorized,
		},
		{
			name:  "demoted from staff",
			staff: true,
			change: func(a *harness, subject, admin account) {
				a.patch("/api/users/"+subject.ID, map[string]any{"is_staff": false}, admin.Access).expect(http.StatusOK)
			},
			path: "/api/audit-events", want: http.StatusForbidden,
		},
		{
			name: "password changed",
			change: func(a *harness, subject, _ account) {
				a.post("/api/auth/change-password", map[string]any{"current_password": subject.Password, "new_password": newPassword}, subject.Access).
					expect(http.StatusOK)
			},
			path: "/api/users/me", want: http.StatusUnauthorized,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newHarness(t)
			b := a.twin()
			admin := a.staff("admin@example.org")
			var subject account
			if tt.staff {
				subject = a.staff("member@example.org")
			} else {
				subject = a.signup("pat@example.org")
			}
			// The account's row is now in B's cache, which B may use.
			b.get(tt.path, subject.Access).expect(http.StatusOK)
			v, cacheable := b.store.UsersVersion()
			if !cacheable {
				t.Fatal("server B's store reports user rows not cacheable: its listener is not connected")
			}
			b.get(tt.path, subject.Access).expect(http.StatusOK)

			tt.change(a, subject, admin)
			pgtest.WaitUsersVersion(t, b.store, "server B to hear of the change", func(got uint64, _ bool) bool { return got != v })
			b.get(tt.path, subject.Access).expect(tt.want)
		})
	}
}

// While server B's listener is away (its connection dropped and the
// database refusing new ones), B does not use its cache: a change made
// through server A applies to B's next request with no announcement to
// wait for.
func TestCacheBypassedWhileTheListenerIsAway(t *testing.T) {
	onPostgresOnly(t)
	a := newHarness(t)
	b := a.twin()
	admin := a.staff("admin@example.org")
	subject := a.signup("pat@example.org")
	b.get("/api/users/me", subject.Access).expect(http.StatusOK)
	// The same kind of request as the change below, so that A's pool holds
	// the connections it needs while no new one can be made.
	a.patch("/api/users/"+subject.ID, map[string]any{"first_name": "Renamed"}, admin.Access).expect(http.StatusOK)
	b.get("/api/users/me", subject.Access).expect(http.StatusOK)

	allow := pgtest.RefuseConnections(t, a.target.URL)
	if n := pgtest.DropListeners(t, a.target.URL); n != 2 {
		t.Fatalf("dropped %d listener sessions, want 2 (A's and B's)", n)
	}
	pgtest.WaitUsersVersion(t, b.store, "server B to notice its listener is gone", func(_ uint64, cacheable bool) bool { return !cacheable })
	// Read afresh, and not kept: no announcement would take it back.
	b.get("/api/users/me", subject.Access).expect(http.StatusOK)
	a.patch("/api/users/"+subject.ID, map[string]any{"is_active": false}, admin.Access).expect(http.StatusOK)
	b.get("/api/users/me", subject.Access).expect(http.StatusUnauthorized)

	allow()
	pgtest.WaitUsersVersion(t, b.store, "server B's listener to listen again", func(_ uint64, cacheable bool) bool { return cacheable })
	b.get("/api/users/me", subject.Access).expect(http.StatusUnauthorized)
}

// An API token revoked through server A stops on server B's next request
// (each request looks the token up, nothing caches it), and a token of an
// account demoted through A loses its staff scope on B once B hears of
// the change, as a session does.
func TestAPITokenChangesApplyOnAnotherInstance(t *testing.T) {
	onPostgresOnly(t)
	a := newHarness(t)
	b := a.twin()
	admin := a.staff("admin@example.org")
	member := a.staff("member@example.org")
	revoked := a.newToken(member.Access, "records:read")
	staffTok := a.newToken(member.Access, "audit:read", "records:read")
	b.get("/api/medical-records", revoked.Token).expect(http.StatusOK)
	b.get("/api/audit-events", staffTok.Token).expect(http.StatusOK)

	a.delete("/api/users/me/tokens/"+revoked.ID, member.Access).expect(http.StatusNoContent)
	b.get("/api/medical-records", revoked.Token).expect(http.StatusUnauthorized)

	v, cacheable := b.store.UsersVersion()
	if !cacheable {
		t.Fatal("server B's store reports user rows not cacheable: its listener is not connected")
	}
	a.patch("/api/users/"+member.ID, map[string]any{"is_staff": false}, admin.Access).expect(http.StatusOK)
	pgtest.WaitUsersVersion(t, b.store, "server B to hear of the change", func(got uint64, _ bool) bool { return got != v })
	b.get("/api/audit-events", staffTok.Token).expectError(http.StatusForbidden, "This token lacks the scope audit:read.")
	b.get("/api/medical-records", staffTok.Token).expect(http.StatusOK)
}
