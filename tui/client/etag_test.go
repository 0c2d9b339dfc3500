package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// Versions come from the ETag; IfVersion sends If-Match; a 412 is
// IsChanged.
func TestIfVersion(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin, _ := e.staff("admin@example.org")
	c, pat := e.patient("pat@example.org")
	rec, err := c.CreateRecord(ctx, client.RecordInput{PatientName: "Pat", DateOfBirth: model.NewDate(1980, 1, 2),
		DateOfTreatment: model.DateOf(time.Now()).AddDays(5), Doctor: "Dr Grey"})
	if err != nil || rec.Version != 1 {
		t.Fatalf("create: version %d, %v", rec.Version, err)
	}
	if got, err := c.GetRecord(ctx, rec.ID); err != nil || got.Version != 1 {
		t.Fatalf("get: version %d, %v", got.Version, err)
	}
	d := "Flu"
	patched, err := c.PatchRecord(ctx, rec.ID, client.RecordPatch{Diagnosis: &d, IfVersion: 1})
	if err != nil || patched.Version != 2 {
		t.Fatalf("patch at the current version: version %d, %v", patched.Version, err)
	}
	if _, err := c.PatchRecord(ctx, rec.ID, client.RecordPatch{Diagnosis: &d, IfVersion: 1}); !client.IsChanged(err) {
		t.Fatalf("patch at a stale version: %v, want 412", err)
	}
	if _, err := c.ReplaceRecord(ctx, rec.ID, client.RecordInput{PatientName: "Pat", DateOfBirth: model.NewDate(1980, 1, 2),
		DateOfTreatment: rec.DateOfTreatment, Doctor: "Dr Grey", IfVersion: 1}); !client.IsChanged(err) {
		t.Fatalf("replace at a stale version: %v, want 412", err)
	}
	if err := c.DeleteRecord(ctx, rec.ID, 1); !client.IsChanged(err) {
		t.Fatalf("delete at a stale version: %v, want 412", err)
	}
	if err := c.DeleteRecord(ctx, rec.ID, 2); err != nil {
		t.Fatalf("delete at the current version: %v", err)
	}

	u, err := admin.GetUser(ctx, pat.ID)
	if err != nil || u.Version != 1 {
		t.Fatalf("get user: version %d, %v", u.Version, err)
	}
	name := "Patty"
	if u, err = admin.UpdateUser(ctx, pat.ID, client.UserPatch{FirstName: &name, IfVersion: 1}); err != nil || u.Version != 2 {
		t.Fatalf("update user: version %d, %v", u.Version, err)
	}
	if _, err := c.UpdateMe(ctx, client.UserPatch{LastName: &name, IfVersion: 1}); !client.IsChanged(err) {
		t.Fatalf("update me at a stale version: %v, want 412", err)
	}
	if me, err := c.Me(ctx); err != nil || me.Version != 2 {
		t.Fatalf("me: version %d, %v", me.Version, err)
	}
}
