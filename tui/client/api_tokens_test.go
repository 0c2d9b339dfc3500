package client_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// bearerStatus calls GET /api/users/me with token as the bearer and
// returns the status.
func bearerStatus(t *testing.T, e *env, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+"/api/users/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := (&http.Client{Transport: e.transport, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestAPITokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	owner, ou := e.patient("tokens@example.org")
	other, _ := e.patient("other@example.org")

	nt, err := owner.CreateAPIToken(ctx, client.CreateAPITokenRequest{Name: "cron", Scopes: []string{model.ScopeUsersRead, model.ScopeRecordsRead}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(nt.Token, model.APITokenPrefix) || nt.Name != "cron" ||
		!slices.Equal(nt.Scopes, []string{model.ScopeRecordsRead, model.ScopeUsersRead}) ||
		!nt.Expires.Equal(nt.Created.AddDate(0, 0, model.DefaultAPITokenDays)) {
		t.Fatalf("CreateAPIToken = %+v", nt)
	}
	if got := bearerStatus(t, e, nt.Token); got != http.StatusOK {
		t.Fatalf("GET /api/users/me with the new token: %d, want 200", got)
	}
	nt90, err := owner.CreateAPIToken(ctx, client.CreateAPITokenRequest{Name: "ninety", Scopes: []string{model.ScopeRecordsWrite}, ExpiresInDays: 90})
	if err != nil || !nt90.Expires.Equal(nt90.Created.AddDate(0, 0, 90)) {
		t.Fatalf("a 90-day token = %+v, %v", nt90, err)
	}

	// Validation: each field named.
	for _, tc := range []struct {
		name  string
		req   client.CreateAPITokenRequest
		field string
	}{
		{"no name", client.CreateAPITokenRequest{Scopes: []string{model.ScopeRecordsRead}}, "name"},
		{"no scopes", client.CreateAPITokenRequest{Name: "x"}, "scopes"},
		{"staff scope", client.CreateAPITokenRequest{Name: "x", Scopes: []string{model.ScopeAuditRead}}, "scopes"},
		{"too long", client.CreateAPITokenRequest{Name: "x", Scopes: []string{model.ScopeRecordsRead}, ExpiresInDays: 366}, "expires_in_days"},
	} {
		_, err := owner.CreateAPIToken(ctx, tc.req)
		if ae := apiError(t, err, http.StatusBadRequest); ae.Field(tc.field) == "" {
			t.Errorf("%s: %v, want a %s field error", tc.name, err, tc.field)
		}
	}

	page, err := owner.ListAPITokens(ctx, client.APITokenQuery{})
	if err != nil || page.Count != 2 || len(page.Results) != 2 {
		t.Fatalf("ListAPITokens = %+v, %v", page, err)
	}
	if page.Results[1].ID != nt.ID || page.Results[1].LastUsed == nil || page.Results[0].LastUsed != nil {
		t.Fatalf("list (newest first; the used one has last_used) = %+v", page.Results)
	}
	if p1, err := owner.ListAPITokens(ctx, client.APITokenQuery{Page: 2, PageSize: 1}); err != nil || len(p1.Results) != 1 || p1.Results[0].ID != nt.ID {
		t.Fatalf("page 2 of size 1 = %+v, %v", p1, err)
	}

	// Someone else's token is not found, neither listed nor revocable.
	if _, err := other.ListUserAPITokens(ctx, ou.ID, client.APITokenQuery{}); !client.IsStatus(err, http.StatusNotFound) {
		t.Fatalf("a patient lists another account's tokens: %v, want 404", err)
	}
	if err := other.RevokeAPIToken(ctx, nt.ID); !client.IsStatus(err, http.StatusNotFound) {
		t.Fatalf("revoke someone else's token: %v, want 404", err)
	}

	if err := owner.RevokeAPIToken(ctx, nt.ID); err != nil {
		t.Fatal(err)
	}
	if got := bearerStatus(t, e, nt.Token); got != http.StatusUnauthorized {
		t.Fatalf("a revoked token: %d, want 401", got)
	}
	if err := owner.RevokeAPIToken(ctx, nt.ID); !client.IsStatus(err, http.StatusNotFound) {
		t.Fatalf("revoke twice: %v, want 404", err)
	}
	if page, err := owner.ListAPITokens(ctx, client.APITokenQuery{}); err != nil || page.Count != 1 || page.Results[0].ID != nt90.ID {
		t.Fatalf("after revoking = %+v, %v", page, err)
	}
}

func TestStaffAPITokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	staff, _ := e.staff("staff@example.org")
	owner, u := e.patient("tokens@example.org")

	if _, err := staff.CreateAPIToken(ctx, client.CreateAPITokenRequest{Name: "audit", Scopes: []string{model.ScopeAuditRead}}); err != nil {
		t.Fatalf("staff's audit:read token: %v", err)
	}
	nt, err := owner.CreateAPIToken(ctx, client.CreateAPITokenRequest{Name: "job", Scopes: []string{model.ScopeRecordsRead}})
	if err != nil {
		t.Fatal(err)
	}
	page, err := staff.ListUserAPITokens(ctx, u.ID, client.APITokenQuery{})
	if err != nil || page.Count != 1 || page.Results[0].ID != nt.ID {
		t.Fatalf("ListUserAPITokens = %+v, %v", page, err)
	}
	if err := staff.RevokeUserAPIToken(ctx, u.ID, nt.ID); err != nil {
		t.Fatal(err)
	}
	if got := bearerStatus(t, e, nt.Token); got != http.StatusUnauthorized {
		t.Fatalf("a token staff revoked: %d, want 401", got)
	}
	if err := owner.RevokeUserAPIToken(ctx, u.ID, nt.ID); !client.IsStatus(err, http.StatusNotFound) {
		t.Fatalf("revoke again: %v, want 404", err)
	}
}
