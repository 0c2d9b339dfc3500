package client_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

func TestMeAndUpdateMe(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, u := e.patient("pat@example.org")

	me, err := c.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if me.ID != u.ID || me.Email != "pat@example.org" || me.FirstName != "Pat" || me.IsStaff {
		t.Fatalf("Me = %+v", me)
	}

	// UpdateMe sends only the names: the flags are not sent, so a patient
	// cannot promote themselves even by trying.
	updated, err := c.UpdateMe(ctx, client.UserPatch{FirstName: ptr(" Patricia "), IsStaff: ptr(true), IsActive: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if updated.FirstName != "Patricia" || updated.LastName != "Ient" || updated.IsStaff || !updated.IsActive {
		t.Fatalf("UpdateMe = %+v", updated)
	}
	if got := e.dbUser(u.ID); got.FirstName != "Patricia" || got.LastName != "Ient" || got.IsStaff || !got.IsActive {
		t.Fatalf("stored %+v", got.User)
	}
	if updated, err = c.UpdateMe(ctx, client.UserPatch{LastName: ptr("Smith")}); err != nil || updated.FirstName != "Patricia" || updated.LastName != "Smith" {
		t.Fatalf("UpdateMe last name = %+v, %v", updated, err)
	}

	_, err = c.UpdateMe(ctx, client.UserPatch{FirstName: ptr("  ")})
	if ae := apiError(t, err, http.StatusBadRequest); ae.Field("first_name") != model.MsgBlank {
		t.Fatalf("blank name: %+v", ae)
	}
	if got := e.dbUser(u.ID); got.FirstName != "Patricia" {
		t.Fatalf("rejected update stored %q", got.FirstName)
	}

	// No tokens at all: the server's 401, nothing to refresh.
	anon, _ := e.newClient()
	_, err = anon.Me(ctx)
	if ae := apiError(t, err, http.StatusUnauthorized); ae.Message != "Authentication credentials were not provided." {
		t.Fatalf("anonymous Me: %+v", ae)
	}
}

func TestUsersAsStaff(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin, adminUser := e.staff("admin@example.org")
	_, pat := e.patient("pat@example.org")

	created, err := admin.CreateUser(ctx, client.CreateUserRequest{
		FirstName: "Nora", LastName: "Nurse", Email: "Nora@Example.org", Password: testPassword, IsStaff: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.Email != "nora@example.org" || !created.IsStaff || !created.IsActive {
		t.Fatalf("created %+v", created)
	}
	if got := e.dbUser(created.ID); got.Email != "nora@example.org" || !got.IsStaff {
		t.Fatalf("stored %+v", got.User)
	}
	plain, err := admin.CreateUser(ctx, client.CreateUserRequest{FirstName: "Otto", LastName: "Other", Email: "otto@example.org", Password: testPassword})
	if err != nil || plain.IsStaff {
		t.Fatalf("created patient %+v, %v", plain, err)
	}
	_, err = admin.CreateUser(ctx, client.CreateUserRequest{FirstName: "X", LastName: "Y", Email: "pat@example.org", Password: testPassword})
	if ae := apiError(t, err, http.StatusConflict); ae.Field("email") != model.MsgEmailTaken {
		t.Fatalf("duplicate: %+v", ae)
	}
	_, err = admin.CreateUser(ctx, client.CreateUserRequest{FirstName: "X", LastName: "Y", Email: "x@example.org"})
	if ae := apiError(t, err, http.StatusBadRequest); ae.Field("password") != model.MsgPasswordTooShort {
		t.Fatalf("empty password: %+v", ae)
	}

	all, err := admin.ListUsers(ctx, client.UserQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if all.Count != 4 || len(all.Results) != 4 || all.NumberOfPages != 1 || all.Next != nil || all.Previous != nil {
		t.Fatalf("all users: %+v", all)
	}
	emails := func(p model.Page[model.User]) []string {
		var out []string
		for _, u := range p.Results {
			out = append(out, u.Email)
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		q    client.UserQuery
		want []string
	}{
		{client.UserQuery{Search: "NORA"}, []string{"nora@example.org"}},
		{client.UserQuery{Search: "other"}, []string{"otto@example.org"}},
		{client.UserQuery{IsStaff: ptr(true)}, []string{"admin@example.org", "nora@example.org"}},
		{client.UserQuery{IsStaff: ptr(false)}, []string{"otto@example.org", "pat@example.org"}},
		{client.UserQuery{IsStaff: ptr(false), Search: "pat"}, []string{"pat@example.org"}},
	} {
		p, err := admin.ListUsers(ctx, tc.q)
		if err != nil {
			t.Fatalf("%+v: %v", tc.q, err)
		}
		if got := emails(p); !slices.Equal(got, tc.want) || p.Count != len(tc.want) {
			t.Fatalf("%+v: %v (count %d), want %v", tc.q, got, p.Count, tc.want)
		}
	}

	page1, err := admin.ListUsers(ctx, client.UserQuery{PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	page2, err := admin.ListUsers(ctx, client.UserQuery{Page: 2, PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if page1.Count != 4 || page1.NumberOfPages != 2 || len(page1.Results) != 3 || page1.Next == nil || page1.Previous != nil {
		t.Fatalf("page 1: %+v", page1)
	}
	if len(page2.Results) != 1 || page2.Next != nil || page2.Previous == nil {
		t.Fatalf("page 2: %+v", page2)
	}
	_, err = admin.ListUsers(ctx, client.UserQuery{Page: 3, PageSize: 3})
	if ae := apiError(t, err, http.StatusNotFound); ae.Message != "Invalid page." {
		t.Fatalf("page past the end: %+v", ae)
	}
	_, err = admin.ListUsers(ctx, client.UserQuery{PageSize: 101})
	if ae := apiError(t, err, http.StatusBadRequest); ae.Field("page_size") != model.MsgPageSize {
		t.Fatalf("page size: %+v", ae)
	}

	got, err := admin.GetUser(ctx, pat.ID)
	if err != nil || got.ID != pat.ID || got.Email != "pat@example.org" {
		t.Fatalf("GetUser = %+v, %v", got, err)
	}
	_, err = admin.GetUser(ctx, "00000000-0000-4000-8000-000000000000")
	apiError(t, err, http.StatusNotFound)
	_, err = admin.GetUser(ctx, "not/a-uuid?")
	apiError(t, err, http.StatusNotFound)

	// UpdateUser: names and both flags.
	upd, err := admin.UpdateUser(ctx, plain.ID, client.UserPatch{FirstName: ptr("Ottilie"), IsStaff: ptr(true)})
	if err != nil || upd.FirstName != "Ottilie" || upd.LastName != "Other" || !upd.IsStaff || !upd.IsActive {
		t.Fatalf("UpdateUser = %+v, %v", upd, err)
	}
	upd, err = admin.UpdateUser(ctx, plain.ID, client.UserPatch{LastName: ptr("Ort"), IsStaff: ptr(false), IsActive: ptr(false)})
	if err != nil || upd.LastName != "Ort" || upd.IsStaff || upd.IsActive {
		t.Fatalf("UpdateUser = %+v, %v", upd, err)
	}
	if row := e.dbUser(plain.ID); row.FirstName != "Ottilie" || row.LastName != "Ort" || row.IsStaff || row.IsActive {
		t.Fatalf("stored %+v", row.User)
	}
	inactive, err := admin.ListUsers(ctx, client.UserQuery{IsActive: ptr(false)})
	if err != nil || !slices.Equal(emails(inactive), []string{"otto@example.org"}) {
		t.Fatalf("inactive users %v, %v", emails(inactive), err)
	}
	anon, _ := e.newClient()
	if _, err := anon.Login(ctx, "otto@example.org", testPassword); !client.IsStatus(err, http.StatusUnauthorized) {
		t.Fatalf("deactivated login: %v", err)
	}

	_, err = admin.UpdateUser(ctx, adminUser.ID, client.UserPatch{IsStaff: ptr(false)})
	if ae := apiError(t, err, http.StatusBadRequest); ae.Field("is_staff") != model.MsgSelfDemote {
		t.Fatalf("self demotion: %+v", ae)
	}
	_, err = admin.UpdateUser(ctx, adminUser.ID, client.UserPatch{IsActive: ptr(false)})
	if ae := apiError(t, err, http.StatusBadRequest); ae.Field("is_active") != model.MsgSelfDeactivate {
		t.Fatalf("self deactivation: %+v", ae)
	}
	if row := e.dbUser(adminUser.ID); !row.IsStaff || !row.IsActive {
		t.Fatal("admin demoted itself")
	}
	if got := e.auditActions(plain.ID); !slices.Equal(got, []string{model.ActionUserCreate, model.ActionUserUpdate, model.ActionUserUpdate, model.ActionLoginFailed}) {
		t.Fatalf("audit %v", got)
	}
}

func TestUsersAsPatient(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, staffUser := e.staff("admin@example.org")
	c, me := e.patient("pat@example.org")
	_, other := e.patient("other@example.org")

	list, err := c.ListUsers(ctx, client.UserQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if list.Count != 1 || len(list.Results) != 1 || list.Results[0].ID != me.ID {
		t.Fatalf("a patient's user list: %+v", list)
	}
	if got, err := c.GetUser(ctx, me.ID); err != nil || got.ID != me.ID {
		t.Fatalf("GetUser self = %+v, %v", got, err)
	}
	for _, id := range []string{other.ID, staffUser.ID} {
		_, err := c.GetUser(ctx, id)
		if ae := apiError(t, err, http.StatusNotFound); ae.Message != "Not found." {
			t.Fatalf("GetUser other: %+v", ae)
		}
	}
	_, err = c.CreateUser(ctx, client.CreateUserRequest{FirstName: "Mal", LastName: "Lory", Email: "mal@example.org", Password: testPassword, IsStaff: true})
	if ae := apiError(t, err, http.StatusForbidden); ae.Message != "You do not have permission to perform this action." {
		t.Fatalf("patient CreateUser: %+v", ae)
	}
	if _, err := e.store.Read().UserByEmail(ctx, "mal@example.org"); err == nil {
		t.Fatal("a forbidden create stored the user")
	}
	_, err = c.UpdateUser(ctx, me.ID, client.UserPatch{IsStaff: ptr(true)})
	apiError(t, err, http.StatusForbidden)
	if e.dbUser(me.ID).IsStaff {
		t.Fatal("a patient promoted themselves")
	}
	_, err = c.ListAuditEvents(ctx, client.AuditQuery{})
	apiError(t, err, http.StatusForbidden)
}
