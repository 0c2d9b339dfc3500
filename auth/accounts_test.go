package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/password"
)

// openAccounts opens a store and a cheap hasher for the account tests.
func openAccounts(t *testing.T) (db.Store, *password.Hasher, func() time.Time) {
	t.Helper()
	store, _ := testenv.OpenStore(t, sqlite.Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	clock := testenv.NewClock(time.Date(2030, 1, 15, 9, 0, 0, 0, time.UTC))
	return store, password.NewHasher(password.HasherOptions{Params: fastParams}), clock.Now
}

// auditOf returns the events about the account id.
func auditOf(t *testing.T, store db.Store, id string) []model.AuditEvent {
	t.Helper()
	events, _, err := store.Read().ListAudit(context.Background(), db.AuditFilter{EntityID: id, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// TestCreateAccountAuditsTheActor: the account is stored active with a
// hash of its password, and audited as user.create by the actor from the
// actor's address, or by no account; a taken email is db.ErrConflict.
func TestCreateAccountAuditsTheActor(t *testing.T) {
	store, hasher, now := openAccounts(t)
	ctx := context.Background()
	for _, actor := range []auth.Actor{{ID: "3f1c2d4e-0000-4000-8000-000000000001", IP: "192.0.2.7"}, {IP: "cli"}} {
		a := auth.NewAccount{Email: actor.IP + "@example.org", FirstName: "Ada", LastName: "Admin", Password: "Quiet-Harbour-51", IsStaff: true}
		u, err := auth.CreateAccount(ctx, store, hasher, a, actor, now)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := store.Read().UserByEmail(ctx, a.Email)
		if err != nil {
			t.Fatal(err)
		}
		if stored.ID != u.ID || !stored.IsStaff || !stored.IsActive {
			t.Fatalf("stored %+v, want the active staff account %s", stored.User, u.ID)
		}
		if ok, err := hasher.Verify(ctx, a.Password, stored.PasswordHash); err != nil || !ok {
			t.Fatalf("the stored hash does not verify the password: %v, %v", ok, err)
		}
		events := auditOf(t, store, u.ID)
		if len(events) != 1 || events[0].Action != model.ActionUserCreate || events[0].IP != actor.IP {
			t.Fatalf("events %+v, want one %s from %s", events, model.ActionUserCreate, actor.IP)
		}
		if got := events[0].ActorID; (got == nil) != (actor.ID == "") || (got != nil && *got != actor.ID) {
			t.Fatalf("actor %v, want %q", got, actor.ID)
		}
		if _, err := auth.CreateAccount(ctx, store, hasher, a, actor, now); !errors.Is(err, db.ErrConflict) {
			t.Fatalf("the same email again: %v, want db.ErrConflict", err)
		}
		if n := len(auditOf(t, store, u.ID)); n != 1 {
			t.Fatalf("%d events after the refused copy, want 1", n)
		}
	}
}

// TestSignUpIsOneTransaction: a sign-up is a patient audited as
// auth.signup by itself, and what then writes fails or commits with it.
func TestSignUpIsOneTransaction(t *testing.T) {
	store, hasher, now := openAccounts(t)
	ctx := context.Background()
	a := auth.NewAccount{Email: "pat@example.org", FirstName: "Pat", LastName: "Lee", Password: "Quiet-Harbour-51", IsStaff: true}
	failed := errors.New("tokens not issued")
	if _, err := auth.SignUp(ctx, store, hasher, a, auth.Actor{IP: "192.0.2.8"}, now, func(db.Tx, db.UserRow) error { return failed }); !errors.Is(err, failed) {
		t.Fatalf("SignUp: %v, want the callback's error", err)
	}
	if _, err := store.Read().UserByEmail(ctx, a.Email); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("the account of a failed sign-up: %v, want db.ErrNotFound", err)
	}
	var inside string
	u, err := auth.SignUp(ctx, store, hasher, a, auth.Actor{IP: "192.0.2.8"}, now, func(q db.Tx, u db.UserRow) error {
		row, err := q.UserByID(ctx, u.ID)
		inside = row.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if inside != u.ID || u.IsStaff {
		t.Fatalf("the callback saw %q, want %s; staff %v, want a patient", inside, u.ID, u.IsStaff)
	}
	events := auditOf(t, store, u.ID)
	if len(events) != 1 || events[0].Action != model.ActionSignup || events[0].ActorID == nil || *events[0].ActorID != u.ID || events[0].IP != "192.0.2.8" {
		t.Fatalf("events %+v, want one %s by the account itself", events, model.ActionSignup)
	}
}
