package server_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/anavara/anavara/model"
)

func TestMe(t *testing.T) {
	h := newHarness(t)
	a := h.signup("me@example.org")
	var me model.User
	h.get("/api/users/me", a.Access).expect(http.StatusOK).decode(&me)
	if me.Email != "me@example.org" || me.FirstName != "Pat" {
		t.Fatalf("me %+v", me)
	}
	h.get("/api/users/me", "").expectError(http.StatusUnauthorized, "Authentication credentials were not provided.")

	var patched model.User
	h.patch("/api/users/me", map[string]any{"first_name": " Patricia ", "is_staff": true, "email": "x@example.org"}, a.Access).
		expect(http.StatusOK).decode(&patched)
	if patched.FirstName != "Patricia" || patched.LastName != "Ient" || patched.IsStaff || patched.Email != "me@example.org" {
		t.Fatalf("patched %+v: only names may change through /me", patched)
	}
	h.get("/api/users/me", a.Access).expect(http.StatusOK).decode(&me)
	if me.FirstName != "Patricia" || !me.Updated.After(me.Created) && me.Updated != me.Created {
		t.Fatalf("after patch %+v", me)
	}
	h.patch("/api/users/me", map[string]any{"last_name": ""}, a.Access).expectError(http.StatusBadRequest, "", "last_name")
	if got := h.auditActions(a.ID); got[len(got)-1] != model.ActionUserUpdate {
		t.Fatalf("audit %v", got)
	}
}

func TestListUsers(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("admin@example.org")
	a := h.signup("alice@example.org")
	h.signup("bob@example.org")
	h.post("/api/users/", map[string]any{"first_name": "Carol", "last_name": "Nurse", "email": "carol@example.org",
		"password": testPassword, "is_staff": true}, staff.Access).expect(http.StatusCreated)

	list := func(query, token string) model.Page[model.User] {
		t.Helper()
		var p model.Page[model.User]
		h.get("/api/users"+query, token).expect(http.StatusOK).decode(&p)
		return p
	}
	emails := func(p model.Page[model.User]) []string {
		var out []string
		for _, u := range p.Results {
			out = append(out, u.Email)
		}
		return out
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"admin@example.org", "alice@example.org", "bob@example.org", "carol@example.org"}},
		{"?search=ALI", []string{"alice@example.org"}},
		{"?search=nurse", []string{"carol@example.org"}},
		{"?is_staff=true", []string{"admin@example.org", "carol@example.org"}},
		{"?is_staff=false", []string{"alice@example.org", "bob@example.org"}},
		{"?is_active=false", nil},
		{"?page_size=2&page=2", []string{"bob@example.org", "carol@example.org"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			got := emails(list(tc.query, staff.Access))
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	p := list("?page_size=3", staff.Access)
	if p.Count != 4 || p.NumberOfPages != 2 || p.Next == nil || p.Previous != nil {
		t.Fatalf("page meta %+v", p)
	}
	// A patient sees only themselves, whatever the filters say.
	if got := emails(list("?is_staff=true", a.Access)); got != nil {
		t.Fatalf("patient filtered list %v", got)
	}
	if got := emails(list("", a.Access)); fmt.Sprint(got) != "[alice@example.org]" {
		t.Fatalf("patient list %v", got)
	}
	h.get("/api/users?is_staff=maybe", staff.Access).expectError(http.StatusBadRequest, "", "is_staff")
	h.get("/api/users?page_size=500", staff.Access).expectError(http.StatusBadRequest, "", "page_size")
	h.get("/api/users?page=9", staff.Access).expectError(http.StatusNotFound, "Invalid page.")
}

func TestCreateUser(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("admin@example.org")
	a := h.signup("patient@example.org")
	body := map[string]any{"first_name": "Dee", "last_name": "Doc", "email": "dee@example.org", "password": testPassword, "is_staff": true}

	h.post("/api/users", body, a.Access).expectError(http.StatusForbidden, "")
	h.post("/api/users", body, "").expect(http.StatusUnauthorized)

	var u model.User
	h.post("/api/users", body, staff.Access).expect(http.StatusCreated).decode(&u)
	if !u.IsStaff || !u.IsActive || u.Email != "dee@example.org" {
		t.Fatalf("created %+v", u)
	}
	h.login("dee@example.org", testPassword)
	h.post("/api/users", body, staff.Access).expectError(http.StatusConflict, "user with this email already exists.", "email")
	h.post("/api/users", map[string]any{"email": "e@example.org", "password": testPassword, "first_name": "E", "last_name": "F", "is_staff": "yes please"}, staff.Access).
		expectError(http.StatusBadRequest, "", "is_staff")
	h.post("/api/users", map[string]any{"email": "e@example.org", "first_name": "E", "last_name": "F"}, staff.Access).
		expectError(http.StatusBadRequest, "", "password")
	if got := h.auditActions(u.ID); len(got) != 2 || got[0] != model.ActionUserCreate {
		t.Fatalf("audit %v", got)
	}
}

func TestGetAndPatchUser(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("admin@example.org")
	a := h.signup("a@example.org")
	b := h.signup("b@example.org")

	h.get("/api/users/"+a.ID, a.Access).expect(http.StatusOK)
	h.get("/api/users/"+b.ID, a.Access).expectError(http.StatusNotFound, "Not found.")
	h.get("/api/users/"+b.ID, staff.Access).expect(http.StatusOK)
	h.get("/api/users/00000000-0000-4000-8000-000000000000", staff.Access).expect(http.StatusNotFound)
	h.get("/api/users/not-a-uuid", staff.Access).expect(http.StatusNotFound)

	// Only staff may patch, and a patient cannot even learn who exists.
	h.patch("/api/users/"+a.ID, map[string]any{"is_staff": true}, a.Access).expect(http.StatusForbidden)
	h.patch("/api/users/"+b.ID, map[string]any{"first_name": "X"}, a.Access).expect(http.StatusForbidden)

	var u model.User
	h.patch("/api/users/"+a.ID, map[string]any{"first_name": "Alex", "is_staff": true}, staff.Access).expect(http.StatusOK).decode(&u)
	if u.FirstName != "Alex" || !u.IsStaff {
		t.Fatalf("patched %+v", u)
	}
	// Promotion takes effect on the next request with the same token.
	h.get("/api/users/"+b.ID, a.Access).expect(http.StatusOK)

	// Staff cannot demote or deactivate themselves.
	h.patch("/api/users/"+staff.ID, map[string]any{"is_staff": false}, staff.Access).expectError(http.StatusBadRequest, model.MsgSelfDemote, "is_staff")
	h.patch("/api/users/"+staff.ID, map[string]any{"is_active": false}, staff.Access).expectError(http.StatusBadRequest, model.MsgSelfDeactivate, "is_active")
	h.get("/api/users/me", staff.Access).expect(http.StatusOK).decode(&u)
	if !u.IsStaff || !u.IsActive {
		t.Fatal("a refused self-demotion changed the account")
	}

	// Deactivation ends every session of that user at once.
	h.patch("/api/users/"+b.ID, map[string]any{"is_active": false}, staff.Access).expect(http.StatusOK)
	h.get("/api/users/me", b.Access).expect(http.StatusUnauthorized)
	h.post("/api/auth/token/refresh", map[string]any{"refresh_token": b.Refresh}, "").expect(http.StatusUnauthorized)
	h.post("/api/auth/login", map[string]any{"email": b.Email, "password": b.Password}, "").expect(http.StatusUnauthorized)
	// And reactivation lets them back in.
	h.patch("/api/users/"+b.ID, map[string]any{"is_active": true}, staff.Access).expect(http.StatusOK)
	h.login(b.Email, b.Password)
	if got := h.auditActions(b.ID); !contains(got, model.ActionUserUpdate) {
		t.Fatalf("audit %v", got)
	}
}
