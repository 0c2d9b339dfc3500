package client_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

func TestListAuditEvents(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin, adminUser := e.staff("admin@example.org")
	c, pat := e.patient("pat@example.org")
	rec, err := c.CreateRecord(ctx, client.RecordInput{
		PatientName: "Pat", DateOfBirth: date(t, "1990-01-01"), DateOfTreatment: date(t, "2026-04-01"), Doctor: "Dr Grey",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.GetRecord(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}

	// staff login, signup, record create, record read: newest first.
	all, err := admin.ListAuditEvents(ctx, client.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range all.Results {
		actions = append(actions, ev.Action)
	}
	want := []string{model.ActionRecordRead, model.ActionRecordCreate, model.ActionSignup, model.ActionLogin}
	if !slices.Equal(actions, want) || all.Count != 4 {
		t.Fatalf("audit trail %v (count %d), want %v", actions, all.Count, want)
	}
	read := all.Results[0]
	if read.ID == "" || read.Entity != model.EntityRecord || read.EntityID == nil || *read.EntityID != rec.ID ||
		read.ActorID == nil || *read.ActorID != adminUser.ID || read.IP != "127.0.0.1" || read.At.IsZero() {
		t.Fatalf("read event %+v", read)
	}

	for _, tc := range []struct {
		name string
		q    client.AuditQuery
		want []string
	}{
		{"actor", client.AuditQuery{ActorID: pat.ID}, []string{model.ActionRecordCreate, model.ActionSignup}},
		{"entity", client.AuditQuery{EntityID: rec.ID}, []string{model.ActionRecordRead, model.ActionRecordCreate}},
		{"action", client.AuditQuery{Action: model.ActionSignup}, []string{model.ActionSignup}},
		{"actor and entity", client.AuditQuery{ActorID: pat.ID, EntityID: rec.ID}, []string{model.ActionRecordCreate}},
		{"since", client.AuditQuery{Since: ptr(read.At)}, []string{model.ActionRecordRead}},
		{"since, another zone", client.AuditQuery{Since: ptr(read.At.In(time.FixedZone("X", 5*3600)))}, []string{model.ActionRecordRead}},
		{"since after everything", client.AuditQuery{Since: ptr(read.At.Add(time.Microsecond))}, nil},
	} {
		p, err := admin.ListAuditEvents(ctx, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, ev := range p.Results {
			got = append(got, ev.Action)
		}
		if !slices.Equal(got, tc.want) || p.Count != len(tc.want) {
			t.Errorf("%s: %v (count %d), want %v", tc.name, got, p.Count, tc.want)
		}
	}

	p2, err := admin.ListAuditEvents(ctx, client.AuditQuery{Page: 2, PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if p2.Count != 4 || p2.NumberOfPages != 2 || len(p2.Results) != 1 || p2.Results[0].Action != model.ActionLogin || p2.Previous == nil || p2.Next != nil {
		t.Fatalf("page 2 %+v", p2)
	}
	_, err = admin.ListAuditEvents(ctx, client.AuditQuery{ActorID: "nobody"})
	if ae := apiError(t, err, http.StatusBadRequest); ae.Field("actor_id") != model.MsgInvalidUUID {
		t.Fatalf("bad actor id: %+v", ae)
	}
	_, err = c.ListAuditEvents(ctx, client.AuditQuery{})
	apiError(t, err, http.StatusForbidden)
}
