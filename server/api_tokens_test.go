package server_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/audit/chain"
	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/server"
)

const tokensPath = "/api/users/me/tokens"

// newToken creates an API token of the account signed in with session,
// expecting 201.
func (h *harness) newToken(session string, scopes ...string) model.NewAPIToken {
	h.t.Helper()
	var tok model.NewAPIToken
	h.post(tokensPath, map[string]any{"name": "cron", "scopes": scopes, "expires_in_days": 30}, session).
		expect(http.StatusCreated).decode(&tok)
	return tok
}

// TestAPITokenLifecycle: a token is created with its secret shown once,
// listed without it, authenticates requests (recording its last use),
// and stops at once when revoked; each step is audited.
func TestAPITokenLifecycle(t *testing.T) {
	h := newHarness(t)
	ann := h.signup("ann@example.org")
	res := h.post(tokensPath, map[string]any{"name": "  nightly export ", "scopes": []string{"records:write", "records:read"}, "expires_in_days": 90}, ann.Access).
		expect(http.StatusCreated)
	var tok model.NewAPIToken
	res.decode(&tok)
	if !strings.HasPrefix(tok.Token, "anv_") || len(tok.Token) != 47 {
		t.Fatalf("token %q: want anv_ and 43 characters", tok.Token)
	}
	if tok.Name != "nightly export" || !slices.Equal(tok.Scopes, []string{"records:read", "records:write"}) {
		t.Errorf("created %+v: want the trimmed name and the scopes in canonical order", tok)
	}
	if got := tok.Expires.Sub(tok.Created); got != 90*24*time.Hour {
		t.Errorf("lifetime %v; want 90 days", got)
	}
	stored, err := h.store.Read().APITokenByHash(context.Background(), auth.HashAPIToken(tok.Token))
	if err != nil || stored.ID != tok.ID || stored.UserID != ann.ID {
		t.Fatalf("stored %+v, %v", stored, err)
	}

	list := h.get(tokensPath, ann.Access).expect(http.StatusOK)
	if bytes.Contains(list.Body, []byte(tok.Token)) || bytes.Contains(list.Body, []byte(`"token"`)) || bytes.Contains(list.Body, []byte("hash")) {
		t.Fatalf("the list shows a secret: %s", list.Body)
	}
	var page model.Page[model.APIToken]
	list.decode(&page)
	if page.Count != 1 || page.Results[0].ID != tok.ID || page.Results[0].LastUsed != nil {
		t.Fatalf("list %+v", page)
	}

	rec := mrCreate(h, tok.Token, nil)
	h.get(mrPath+"/"+rec.ID, tok.Token).expect(http.StatusOK)
	page = listPage[model.APIToken](h, tokensPath, ann.Access)
	if lu := page.Results[0].LastUsed; lu == nil {
		t.Fatal("last_used not recorded")
	}

	h.delete(tokensPath+"/"+tok.ID, ann.Access).expect(http.StatusNoContent)
	h.get(mrPath, tok.Token).expectError(http.StatusUnauthorized, "Invalid or expired access token.")
	h.delete(tokensPath+"/"+tok.ID, ann.Access).expectError(http.StatusNotFound, "Not found.")
	if page := listPage[model.APIToken](h, tokensPath, ann.Access); page.Count != 0 {
		t.Errorf("a revoked token is listed: %+v", page)
	}
	if got := h.auditActions(tok.ID); !slices.Equal(got, []string{model.ActionTokenCreate, model.ActionTokenRevoke}) {
		t.Errorf("token audited as %v", got)
	}
}

// TestAPITokenValidation: every invalid input answers 400 naming its field.
func TestAPITokenValidation(t *testing.T) {
	h := newHarness(t)
	ann := h.signup("ann@example.org")
	staff := h.staff("admin@example.org")
	ok := []string{"records:read"}
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"no name", map[string]any{"scopes": ok}, "name"},
		{"blank name", map[string]any{"name": "   ", "scopes": ok}, "name"},
		{"long name", map[string]any{"name": strings.Repeat("n", 101), "scopes": ok}, "name"},
		{"name not a string", map[string]any{"name": 7, "scopes": ok}, "name"},
		{"no scopes", map[string]any{"name": "x"}, "scopes"},
		{"no scope", map[string]any{"name": "x", "scopes": []string{}}, "scopes"},
		{"scopes not a list", map[string]any{"name": "x", "scopes": "records:read"}, "scopes"},
		{"unknown scope", map[string]any{"name": "x", "scopes": []string{"records:delete"}}, "scopes"},
		{"scope twice", map[string]any{"name": "x", "scopes": []string{"records:read", "records:read"}}, "scopes"},
		{"audit:read of a patient", map[string]any{"name": "x", "scopes": []string{"records:read", "audit:read"}}, "scopes"},
		{"zero days", map[string]any{"name": "x", "scopes": ok, "expires_in_days": 0}, "expires_in_days"},
		{"366 days", map[string]any{"name": "x", "scopes": ok, "expires_in_days": 366}, "expires_in_days"},
		{"days not a number", map[string]any{"name": "x", "scopes": ok, "expires_in_days": "ten"}, "expires_in_days"},
		{"fractional days", map[string]any{"name": "x", "scopes": ok, "expires_in_days": 1.5}, "expires_in_days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			h.post(tokensPath, tc.body, ann.Access).expectError(http.StatusBadRequest, "", tc.field)
		})
	}
	h.t = t
	if page := listPage[model.APIToken](h, tokensPath, ann.Access); page.Count != 0 {
		t.Fatalf("an invalid request created a token: %+v", page)
	}
	// The default lifetime, a form body, and audit:read for staff.
	var tok model.NewAPIToken
	h.post(tokensPath, url.Values{"name": {"form"}, "scopes": {"users:read,records:read"}}, ann.Access).expect(http.StatusCreated).decode(&tok)
	if tok.Expires.Sub(tok.Created) != 30*24*time.Hour || !slices.Equal(tok.Scopes, []string{"records:read", "users:read"}) {
		t.Errorf("form token %+v: want 30 days, records:read and users:read", tok)
	}
	h.post(tokensPath, map[string]any{"name": "audit", "scopes": []string{"audit:read"}, "expires_in_days": 365}, staff.Access).expect(http.StatusCreated)
}

// TestAPITokenScopesOnEveryRoute: through real HTTP, every route a token
// may use answers 403 naming its scope to a token with every other scope,
// and does not to a token of that scope alone; every session-only route
// answers 403 to a token of every scope. The route list is the app's.
func TestAPITokenScopesOnEveryRoute(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("admin@example.org")
	all := h.newToken(staff.Access, model.AllScopes...)
	without := map[string]string{}
	only := map[string]string{}
	for _, s := range model.AllScopes {
		var rest []string
		for _, o := range model.AllScopes {
			if o != s {
				rest = append(rest, o)
			}
		}
		without[s] = h.newToken(staff.Access, rest...).Token
		only[s] = h.newToken(staff.Access, s).Token
	}
	id := uuid.NewString()
	for _, r := range h.srv.App().GetRoutes(true) {
		if r.Method == http.MethodHead {
			continue
		}
		access, _ := server.RouteAccess(r.Method, r.Path)
		path := strings.NewReplacer(":id", id, ":keyID", id, ":tokenID", id).Replace(r.Path)
		if access == "public" {
			continue
		}
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			h.t = t
			if access == "session" {
				h.send(request{method: r.Method, path: path, token: all.Token}).
					expectError(http.StatusForbidden, "API tokens cannot use this endpoint: sign in.")
				return
			}
			h.send(request{method: r.Method, path: path, token: without[access]}).
				expectError(http.StatusForbidden, "This token lacks the scope "+access+".")
			res := h.send(request{method: r.Method, path: path, token: only[access]})
			if res.Status == http.StatusForbidden && strings.Contains(string(res.Body), "scope") || res.Status == http.StatusUnauthorized {
				t.Errorf("a token of %s alone: %d %s", access, res.Status, res.Body)
			}
		})
	}
}

// TestAPITokenScopesAllowAndDeny: what a patient's records:read token may
// and may not do, as a script would meet it.
func TestAPITokenScopesAllowAndDeny(t *testing.T) {
	h := newHarness(t)
	ann := h.signup("ann@example.org")
	bob := h.signup("bob@example.org")
	bobs := mrCreate(h, bob.Access, nil)
	mine := mrCreate(h, ann.Access, nil)
	read := h.newToken(ann.Access, model.ScopeRecordsRead).Token

	h.get(mrPath, read).expect(http.StatusOK)
	h.get(mrPath+"/"+mine.ID, read).expect(http.StatusOK)
	h.get("/api/users/me/export", read).expect(http.StatusOK)
	h.get(mrPath+"/"+bobs.ID, read).expectError(http.StatusNotFound, "Not found.")
	h.post(mrPath, mrBody(nil), read).expectError(http.StatusForbidden, "This token lacks the scope records:write.")
	h.patch(mrPath+"/"+mine.ID, map[string]any{"doctor": "Dr. X"}, read).expectError(http.StatusForbidden, "This token lacks the scope records:write.")
	h.delete(mrPath+"/"+mine.ID, read).expectError(http.StatusForbidden, "This token lacks the scope records:write.")
	h.get("/api/users/me", read).expectError(http.StatusForbidden, "This token lacks the scope users:read.")
	h.post(tokensPath, map[string]any{"name": "more", "scopes": []string{"records:write"}}, read).
		expectError(http.StatusForbidden, "API tokens cannot use this endpoint: sign in.")
	h.post("/api/auth/change-password", map[string]any{"old_password": testPassword, "new_password": "Another-Long-Pass-77"}, read).
		expectError(http.StatusForbidden, "API tokens cannot use this endpoint: sign in.")
	h.post("/api/users/me/ssh-keys", map[string]any{"public_key": "ssh-ed25519 AAAA"}, read).
		expectError(http.StatusForbidden, "API tokens cannot use this endpoint: sign in.")
	if got := mrMustStored(h, mine.ID); got.Doctor != mine.Doctor {
		t.Errorf("a read token changed a record: %+v", got)
	}
	// A staff-only scope of a patient is refused at creation; a patient
	// token of every other scope is still no staff.
	write := h.newToken(ann.Access, model.ScopeRecordsWrite, model.ScopeUsersRead, model.ScopeUsersWrite).Token
	h.get("/api/audit-events", write).expectError(http.StatusForbidden, "This token lacks the scope audit:read.")
	h.post("/api/users", map[string]any{"first_name": "E", "last_name": "Vil", "email": "evil@example.org", "password": testPassword}, write).
		expectError(http.StatusForbidden, "You do not have permission to perform this action.")
	mrCreate(h, write, nil)
}

// TestAPITokenShrinksWithItsAccount: a staff token loses audit:read and
// every staff power the moment its account is demoted, and every token of
// an account stops when it is deactivated.
func TestAPITokenShrinksWithItsAccount(t *testing.T) {
	h := newHarness(t)
	admin := h.staff("admin@example.org")
	sam := h.staff("sam@example.org")
	ann := h.signup("ann@example.org")
	tok := h.newToken(sam.Access, model.ScopeAuditRead, model.ScopeUsersRead, model.ScopeRecordsRead).Token
	h.get("/api/audit-events", tok).expect(http.StatusOK)
	h.get("/api/users/"+ann.ID, tok).expect(http.StatusOK)
	if p := listPage[model.User](h, "/api/users", tok); p.Count != 3 {
		t.Fatalf("staff token lists %d users; want 3", p.Count)
	}

	h.patch("/api/users/"+sam.ID, map[string]any{"is_staff": false}, admin.Access).expect(http.StatusOK)
	h.get("/api/audit-events", tok).expectError(http.StatusForbidden, "This token lacks the scope audit:read.")
	h.get("/api/users/"+ann.ID, tok).expectError(http.StatusNotFound, "Not found.")
	if p := listPage[model.User](h, "/api/users", tok); p.Count != 1 || p.Results[0].ID != sam.ID {
		t.Fatalf("demoted token lists %+v; want itself alone", p.Results)
	}
	h.get(mrPath, tok).expect(http.StatusOK)

	// Promoted again, the scope it was created with comes back.
	h.patch("/api/users/"+sam.ID, map[string]any{"is_staff": true}, admin.Access).expect(http.StatusOK)
	h.get("/api/audit-events", tok).expect(http.StatusOK)

	h.patch("/api/users/"+sam.ID, map[string]any{"is_active": false}, admin.Access).expect(http.StatusOK)
	h.get(mrPath, tok).expectError(http.StatusUnauthorized, "Invalid or expired access token.")
}

// TestAPITokenStaffManageOthers: staff list and revoke any account's
// tokens; a patient gets 404 for another's, and for a token id of
// someone else under its own /me.
func TestAPITokenStaffManageOthers(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("admin@example.org")
	ann := h.signup("ann@example.org")
	bob := h.signup("bob@example.org")
	annTok := h.newToken(ann.Access, model.ScopeRecordsRead)
	bobTok := h.newToken(bob.Access, model.ScopeRecordsRead)

	p := listPage[model.APIToken](h, "/api/users/"+ann.ID+"/tokens", staff.Access)
	if p.Count != 1 || p.Results[0].ID != annTok.ID {
		t.Fatalf("staff list of ann's tokens %+v", p)
	}
	h.get("/api/users/"+ann.ID+"/tokens", bob.Access).expectError(http.StatusNotFound, "Not found.")
	h.delete("/api/users/"+ann.ID+"/tokens/"+annTok.ID, bob.Access).expectError(http.StatusNotFound, "Not found.")
	h.delete(tokensPath+"/"+annTok.ID, bob.Access).expectError(http.StatusNotFound, "Not found.")
	h.delete("/api/users/"+bob.ID+"/tokens/"+annTok.ID, staff.Access).expectError(http.StatusNotFound, "Not found.")
	h.get("/api/users/"+uuid.NewString()+"/tokens", staff.Access).expectError(http.StatusNotFound, "Not found.")
	h.delete(tokensPath+"/not-a-uuid", ann.Access).expectError(http.StatusNotFound, "Not found.")
	h.get(mrPath, annTok.Token).expect(http.StatusOK)

	h.delete("/api/users/"+ann.ID+"/tokens/"+annTok.ID, staff.Access).expect(http.StatusNoContent)
	h.get(mrPath, annTok.Token).expectError(http.StatusUnauthorized, "Invalid or expired access token.")
	h.get(mrPath, bobTok.Token).expect(http.StatusOK)
	// The account itself may use the /{id} form too.
	h.get("/api/users/"+bob.ID+"/tokens", bob.Access).expect(http.StatusOK)
	events, _, err := h.store.Read().ListAudit(context.Background(), db.AuditFilter{EntityID: annTok.ID, Limit: 10})
	if err != nil || len(events) != 2 || events[0].Action != model.ActionTokenRevoke || *events[0].ActorID != staff.ID ||
		!slices.Equal(events[0].SubjectIDs, []string{ann.ID}) {
		t.Fatalf("revocation by staff audited as %+v, %v", events, err)
	}
}

// TestAPITokenExpiry: a token stops at its expiry, 401 like a bad token.
func TestAPITokenExpiry(t *testing.T) {
	h := newHarness(t)
	ann := h.signup("ann@example.org")
	var tok model.NewAPIToken
	h.post(tokensPath, map[string]any{"name": "short", "scopes": []string{"records:read"}, "expires_in_days": 1}, ann.Access).
		expect(http.StatusCreated).decode(&tok)
	h.get(mrPath, tok.Token).expect(http.StatusOK)
	h.clock.Advance(24 * time.Hour)
	h.get(mrPath, tok.Token).expectError(http.StatusUnauthorized, "Invalid or expired access token.")
	for _, bad := range []string{"anv_", "anv_" + strings.Repeat("A", 43), tok.Token + "x"} {
		h.get(mrPath, bad).expectError(http.StatusUnauthorized, "Invalid or expired access token.")
	}
}

// TestAPITokenNotLoginLimited: a token calls the API far more often than
// the login limit allows logins.
func TestAPITokenNotLoginLimited(t *testing.T) {
	h := newHarness(t)
	ann := h.signup("ann@example.org")
	tok := h.newToken(ann.Access, model.ScopeRecordsRead).Token
	for i := range 3 * auth.DefaultLimits.LoginPerIPAndEmail.Limit {
		if res := h.get(mrPath, tok); res.Status != http.StatusOK {
			t.Fatalf("call %d: %d %s", i+1, res.Status, res.Body)
		}
	}
}

// TestScopedAccessToken: a JWT with a scope claim (auth.AccessScoped, what
// SSH's token command mints) is held to its scopes like an API token, and
// to what its account may do now.
func TestScopedAccessToken(t *testing.T) {
	h := newHarness(t)
	sam := h.staff("sam@example.org")
	secret := bytes.Repeat([]byte("k"), 32)
	tokens := auth.NewTokens([]auth.JWTKey{{ID: auth.KeyID(secret), Secret: secret}}, 15*time.Minute, time.Hour, h.clock.Now)
	u, err := h.store.Read().UserByID(context.Background(), sam.ID)
	if err != nil {
		t.Fatal(err)
	}
	scoped, err := tokens.AccessScoped(u, []string{model.ScopeRecordsRead, model.ScopeAuditRead}, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	h.get(mrPath, scoped).expect(http.StatusOK)
	h.get("/api/audit-events", scoped).expect(http.StatusOK)
	h.get("/api/users", scoped).expectError(http.StatusForbidden, "This token lacks the scope users:read.")
	h.get(tokensPath, scoped).expectError(http.StatusForbidden, "API tokens cannot use this endpoint: sign in.")
	// A session JWT of the same account can do all of it.
	h.get("/api/users", sam.Access).expect(http.StatusOK)
	h.get(tokensPath, sam.Access).expect(http.StatusOK)
}

// TestAPITokenUseIsAudited: every event a token's request makes names the
// token, reads, writes and account creation alike; a session's names
// none. The trail stays one verifiable chain.
func TestAPITokenUseIsAudited(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("admin@example.org")
	tok := h.newToken(staff.Access, model.ScopeRecordsRead, model.ScopeRecordsWrite, model.ScopeUsersWrite)
	var created model.User
	h.post("/api/users", map[string]any{"first_name": "Ann", "last_name": "Lee", "email": "ann@example.org", "password": testPassword}, tok.Token).
		expect(http.StatusCreated).decode(&created)
	rec := mrCreate(h, tok.Token, map[string]any{"user_id": created.ID})
	h.get(mrPath+"/"+rec.ID, tok.Token).expect(http.StatusOK)
	h.get(mrPath+"/"+rec.ID, staff.Access).expect(http.StatusOK)
	h.get(mrPath, tok.Token).expect(http.StatusOK)

	ctx := context.Background()
	events, _, err := h.store.Read().ListAudit(ctx, db.AuditFilter{ActorID: staff.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	byToken, bySession := map[string]int{}, map[string]int{}
	for _, e := range events {
		switch {
		case e.TokenID == nil:
			bySession[e.Action]++
		case *e.TokenID == tok.ID:
			byToken[e.Action]++
		default:
			t.Errorf("event %s names token %s", e.Action, *e.TokenID)
		}
	}
	for _, a := range []string{model.ActionUserCreate, model.ActionRecordCreate, model.ActionRecordRead, model.ActionRecordList} {
		if byToken[a] != 1 {
			t.Errorf("%d %s events name the token, want 1 (token %v, session %v)", byToken[a], a, byToken, bySession)
		}
	}
	if bySession[model.ActionRecordRead] != 1 || bySession[model.ActionTokenCreate] != 1 || bySession[model.ActionLogin] != 1 {
		t.Errorf("session events %v", bySession)
	}
	// The API shows the token id.
	var page model.Page[model.AuditEvent]
	h.get("/api/audit-events?entity_id="+rec.ID, staff.Access).expect(http.StatusOK).decode(&page)
	if len(page.Results) == 0 || page.Results[len(page.Results)-1].TokenID == nil || *page.Results[len(page.Results)-1].TokenID != tok.ID {
		t.Errorf("GET /api/audit-events shows %+v", page.Results)
	}
	if !strings.Contains(string(h.get("/api/audit-events?entity_id="+rec.ID, staff.Access).Body), `"token_id":"`+tok.ID+`"`) {
		t.Error("the audit events' JSON lacks token_id")
	}
	checkTrailVerifies(t, h)
}

// checkTrailVerifies fails t unless the whole trail verifies as one chain.
func checkTrailVerifies(t *testing.T, h *harness) {
	t.Helper()
	v := chain.NewVerifier(nil)
	err := h.store.Snapshot(context.Background(), func(snap db.Snapshot) error {
		return snap.EachAudit(context.Background(), v.Add)
	})
	if r := v.Result(); err != nil || r.Break != nil || r.Checked == 0 {
		t.Fatalf("the trail does not verify: %v, %+v", err, r)
	}
}

// TestAPITokenRetryWithIdempotencyKey: a retried token creation with its
// Idempotency-Key creates no second token and never shows the secret
// again (the server does not keep it): 409, marked as a replay.
func TestAPITokenRetryWithIdempotencyKey(t *testing.T) {
	h := newHarness(t)
	ann := h.signup("ann@example.org")
	create := func() *response {
		return h.send(request{method: http.MethodPost, path: tokensPath, token: ann.Access,
			body:    map[string]any{"name": "cron", "scopes": []string{"records:read"}},
			headers: map[string]string{"Idempotency-Key": "cron-token-1"}})
	}
	var tok model.NewAPIToken
	create().expect(http.StatusCreated).decode(&tok)
	again := create().expect(http.StatusConflict)
	if again.Header.Get("Idempotent-Replayed") != "true" || bytes.Contains(again.Body, []byte(tok.Token)) || bytes.Contains(again.Body, []byte("anv_")) {
		t.Fatalf("retry answered %v %s", again.Header, again.Body)
	}
	var page model.Page[model.APIToken]
	h.get(tokensPath, ann.Access).expect(http.StatusOK).decode(&page)
	if page.Count != 1 || page.Results[0].ID != tok.ID {
		t.Fatalf("tokens after the retry: %+v", page)
	}
}

// TestAPITokensEndWithTheAccountsCredentials: a password change, a
// password reset and a deactivation revoke every API token of the account
// (each revocation audited, by whoever made the change), so that a token
// minted by someone who took the account over does not outlive the owner
// taking it back, and re-activating an account brings no token back.
// Another account's tokens are untouched.
func TestAPITokensEndWithTheAccountsCredentials(t *testing.T) {
	for _, c := range []struct {
		name string
		// end ends ann's credentials and returns the id of who did it.
		end func(h *harness, admin, ann account) string
	}{
		{"password change", func(h *harness, admin, ann account) string {
			h.post("/api/auth/change-password", map[string]any{"current_password": ann.Password, "new_password": "Fresh-Lantern-77"}, ann.Access).
				expect(http.StatusOK)
			return ann.ID
		}},
		{"password reset", func(h *harness, admin, ann account) string {
			code := h.resetCode(ann.Email)
			h.post("/api/auth/reset-password", map[string]any{"email": ann.Email, "otp_code": code, "password": "Fresh-Lantern-77"}, "").
				expect(http.StatusOK)
			return ann.ID
		}},
		{"deactivation and re-activation", func(h *harness, admin, ann account) string {
			h.patch("/api/users/"+ann.ID, map[string]any{"is_active": false}, admin.Access).expect(http.StatusOK)
			h.patch("/api/users/"+ann.ID, map[string]any{"is_active": true}, admin.Access).expect(http.StatusOK)
			return admin.ID
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			admin := h.staff("admin@example.org")
			ann := h.signup("ann@example.org")
			bob := h.signup("bob@example.org")
			first := h.newToken(ann.Access, model.ScopeRecordsRead)
			second := h.newToken(ann.Access, model.ScopeRecordsWrite, model.ScopeRecordsRead)
			bobs := h.newToken(bob.Access, model.ScopeRecordsRead)
			h.get(mrPath, first.Token).expect(http.StatusOK)

			by := c.end(h, admin, ann)

			for _, tok := range []model.NewAPIToken{first, second} {
				h.get(mrPath, tok.Token).expectError(http.StatusUnauthorized, "Invalid or expired access token.")
				events, _, err := h.store.Read().ListAudit(context.Background(), db.AuditFilter{EntityID: tok.ID, Limit: 10})
				if err != nil || len(events) != 2 || events[0].Action != model.ActionTokenRevoke || events[0].ActorID == nil ||
					*events[0].ActorID != by || !slices.Equal(events[0].SubjectIDs, []string{ann.ID}) {
					t.Fatalf("token %s: audited as %+v, %v; want its creation, then its revocation by %s", tok.ID, events, err, by)
				}
				stored, err := h.store.Read().APITokenByHash(context.Background(), auth.HashAPIToken(tok.Token))
				if err != nil || stored.RevokedAt == nil {
					t.Fatalf("token %s stored as %+v, %v; want it revoked", tok.ID, stored, err)
				}
			}
			h.get(mrPath, bobs.Token).expect(http.StatusOK)
			signedIn := h.login(ann.Email, map[bool]string{true: ann.Password, false: "Fresh-Lantern-77"}[by == admin.ID])
			if p := listPage[model.APIToken](h, tokensPath, signedIn.Access); p.Count != 0 {
				t.Errorf("ann's tokens after %s: %+v; want none", c.name, p.Results)
			}
			// A new token works as before.
			fresh := h.newToken(signedIn.Access, model.ScopeRecordsRead)
			h.get(mrPath, fresh.Token).expect(http.StatusOK)
		})
	}
}

// TestAPITokenLiveLimit: an account holds at most model.MaxLiveAPITokens
// tokens that are neither revoked nor expired. The next answers 409 and
// stores nothing; a token that expires or is revoked frees its place;
// other accounts are not affected; and two creations racing for the last
// place give one token, not two.
func TestAPITokenLiveLimit(t *testing.T) {
	h := newHarness(t)
	ann := h.signup("ann@example.org")
	bob := h.signup("bob@example.org")
	create := func(days int, session string) *response {
		return h.post(tokensPath, map[string]any{"name": "run", "scopes": []string{"records:read"}, "expires_in_days": days}, session)
	}
	short := create(1, ann.Access).expect(http.StatusCreated)
	var first model.NewAPIToken
	short.decode(&first)
	for range model.MaxLiveAPITokens - 1 {
		create(30, ann.Access).expect(http.StatusCreated)
	}
	create(30, ann.Access).expectError(http.StatusConflict, model.MsgTooManyAPITokens)
	if n, err := h.store.Read().LiveAPITokens(context.Background(), ann.ID, h.clock.Now()); err != nil || n != model.MaxLiveAPITokens {
		t.Fatalf("live tokens after the refused one: %d, %v; want %d", n, err, model.MaxLiveAPITokens)
	}
	create(30, bob.Access).expect(http.StatusCreated)

	// The one-day token expires: its place is free, once.
	h.clock.Advance(24 * time.Hour)
	ann = h.login(ann.Email, ann.Password) // the session ended meanwhile
	create(30, ann.Access).expect(http.StatusCreated)
	create(30, ann.Access).expectError(http.StatusConflict, model.MsgTooManyAPITokens)

	// A revoked token frees its place; two creations race for it.
	var page model.Page[model.APIToken]
	h.get(tokensPath+"?page_size=1", ann.Access).expect(http.StatusOK).decode(&page)
	h.delete(tokensPath+"/"+page.Results[0].ID, ann.Access).expect(http.StatusNoContent)
	statuses := make([]int, 2)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() { statuses[i] = create(30, ann.Access).Status })
	}
	wg.Wait()
	slices.Sort(statuses)
	if !slices.Equal(statuses, []int{http.StatusCreated, http.StatusConflict}) {
		t.Fatalf("two creations for the last place answered %v; want one 201 and one 409", statuses)
	}
	if n, err := h.store.Read().LiveAPITokens(context.Background(), ann.ID, h.clock.Now()); err != nil || n != model.MaxLiveAPITokens {
		t.Fatalf("live tokens after the race: %d, %v; want %d", n, err, model.MaxLiveAPITokens)
	}
}
