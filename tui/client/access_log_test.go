package client_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

func TestAccessLog(t *testing.T) {
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

	for _, who := range []string{"", "me", pat.ID} {
		p, err := c.AccessLog(ctx, who, client.AccessLogQuery{})
		if err != nil {
			t.Fatalf("%q: %v", who, err)
		}
		if p.Count != 1 || len(p.Results) != 1 {
			t.Fatalf("%q: %+v", who, p)
		}
		en := p.Results[0]
		if en.Action != model.ActionRecordRead || en.Entity != model.EntityRecord || en.EntityID == nil || *en.EntityID != rec.ID ||
			en.Actor == nil || en.Actor.ID != adminUser.ID || en.Actor.Name != adminUser.FullName() || en.Actor.Role != "staff" ||
			en.Via != model.ViaAPI || en.IP != "127.0.0.1" || en.Source != "127.0.0.1" || en.At.IsZero() || en.ID == "" {
			t.Fatalf("%q: entry %+v", who, en)
		}
	}

	// Staff read anyone's, filtered and paged; their reads show in it.
	read, err := admin.AccessLog(ctx, pat.ID, client.AccessLogQuery{RecordID: rec.ID})
	if err != nil {
		t.Fatal(err)
	}
	if read.Count != 1 || read.Results[0].Action != model.ActionRecordRead {
		t.Fatalf("staff, one record: %+v", read)
	}
	after := read.Results[0].At
	for _, tc := range []struct {
		name string
		q    client.AccessLogQuery
		want int
	}{
		{"since the read", client.AccessLogQuery{Since: &after, RecordID: rec.ID}, 1},
		{"another record", client.AccessLogQuery{RecordID: "6f1c2a4e-0b7d-4e1a-9c3f-2d5e8a7b9c01"}, 0},
	} {
		p, err := admin.AccessLog(ctx, pat.ID, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if p.Count != tc.want || len(p.Results) != tc.want {
			t.Errorf("%s: %+v, want %d", tc.name, p, tc.want)
		}
	}
	p, err := admin.AccessLog(ctx, pat.ID, client.AccessLogQuery{Page: 1, PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p.Count < 2 || len(p.Results) != 1 || p.Next == nil || p.Results[0].Action != model.ActionAccessLogRead {
		t.Fatalf("staff reads show in the log, newest first: %+v", p)
	}

	// A patient sees no one else's; ids and dates are checked.
	_, err = c.AccessLog(ctx, adminUser.ID, client.AccessLogQuery{})
	apiError(t, err, http.StatusNotFound)
	_, err = admin.AccessLog(ctx, pat.ID, client.AccessLogQuery{RecordID: "nothing"})
	if ae := apiError(t, err, http.StatusBadRequest); ae.Field("record_id") == "" {
		t.Fatalf("bad record id: %+v", ae)
	}
}
