package server_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/anavara/anavara/audit/chain"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/server"
)

const alPath = "/api/users/me/access-log"

// alUserPath is the access log of account id.
func alUserPath(id string) string { return "/api/users/" + id + "/access-log" }

// alEntries reads one page of an access log.
func alEntries(h *harness, path, token string) model.Page[model.AccessLogEntry] {
	h.t.Helper()
	return listPage[model.AccessLogEntry](h, path, token)
}

// A patient's access log holds what others did with their records and
// account, by name and role, from where (SSH shown as such), and of a
// staff list only the patient's own records; never the patient's own
// reads, nor what concerns other patients.
func TestAccessLogShowsWhoAccessedMyRecords(t *testing.T) {
	h := newHarness(t, withConfig(func(c *server.Config) { c.ServiceTokens = []string{addressServiceToken} }))
	ann := h.signup("ann@example.org")
	bob := h.signup("bob@example.org")
	sam := h.staff("sam@example.org")
	h.clock.Advance(time.Second)
	annsRecord := mrCreate(h, ann.Access, map[string]any{"patient_name": "Ann Arbor"})
	h.clock.Advance(time.Second)
	bobsRecord := mrCreate(h, bob.Access, map[string]any{"patient_name": "Bob Baker"})
	h.clock.Advance(time.Second)
	h.get(mrPath+"/"+annsRecord.ID, ann.Access).expect(http.StatusOK) // her own: not in her log
	h.clock.Advance(time.Second)
	h.send(request{method: http.MethodGet, path: mrPath + "/" + annsRecord.ID, token: sam.Access,
		headers: map[string]string{server.HeaderServiceToken: addressServiceToken, server.HeaderClientAddress: "192.0.2.44"}}).expect(http.StatusOK)
	h.clock.Advance(time.Second)
	h.get(mrPath+"/"+bobsRecord.ID, sam.Access).expect(http.StatusOK) // Bob's: not in Ann's log
	h.clock.Advance(time.Second)
	h.get(mrPath+"?ordering=patient_name", sam.Access).expect(http.StatusOK) // serves both
	h.clock.Advance(time.Second)
	h.patch(mrPath+"/"+annsRecord.ID, map[string]any{"diagnosis": "Asthma"}, sam.Access).expect(http.StatusOK)

	log := alEntries(h, alPath, ann.Access)
	want := []string{model.ActionRecordUpdate, model.ActionRecordList, model.ActionRecordRead}
	var got []string
	for _, e := range log.Results {
		got = append(got, e.Action)
	}
	if !slices.Equal(got, want) || log.Count != len(want) {
		t.Fatalf("Ann's access log: %v (count %d), want %v", got, log.Count, want)
	}
	for _, e := range log.Results {
		if e.Actor == nil || e.Actor.ID != sam.ID || e.Actor.Name != "Sam Staff" && e.Actor.Name == "" || e.Actor.Role != "staff" {
			t.Errorf("%s: actor %+v, want Sam, staff", e.Action, e.Actor)
		}
	}
	list, read := log.Results[1], log.Results[2]
	if !slices.Equal(list.RecordIDs, []string{annsRecord.ID}) {
		t.Errorf("the staff list shows Ann the records %v, want only hers %v", list.RecordIDs, annsRecord.ID)
	}
	if read.Via != model.ViaSSH || read.Source != "SSH from 192.0.2.44" || read.EntityID == nil || *read.EntityID != annsRecord.ID {
		t.Errorf("the read over SSH: via %q source %q entity %v", read.Via, read.Source, read.EntityID)
	}
	if log.Results[0].Via != model.ViaAPI || log.Results[0].Source != log.Results[0].IP {
		t.Errorf("the update: via %q source %q ip %q", log.Results[0].Via, log.Results[0].Source, log.Results[0].IP)
	}

	// Bob's log: the read of his record and the list, showing his record.
	bobLog := alEntries(h, alPath, bob.Access)
	if bobLog.Count != 2 || bobLog.Results[0].Action != model.ActionRecordList || !slices.Equal(bobLog.Results[0].RecordIDs, []string{bobsRecord.ID}) {
		t.Errorf("Bob's access log: %+v", bobLog.Results)
	}

	// Filters: since and record_id.
	since := h.clock.Now().Add(-1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	if p := alEntries(h, alPath+"?since="+since, ann.Access); p.Count != 2 {
		t.Errorf("since %s: %d entries, want 2", since, p.Count)
	}
	if p := alEntries(h, alPath+"?record_id="+bobsRecord.ID, ann.Access); p.Count != 0 {
		t.Errorf("Ann's log filtered to Bob's record: %d entries, want 0", p.Count)
	}
	if p := alEntries(h, alPath+"?record_id="+annsRecord.ID, ann.Access); p.Count != 3 {
		t.Errorf("Ann's log filtered to her record: %d entries, want 3", p.Count)
	}
	if p := alEntries(h, alPath+"?page_size=1&page=2", ann.Access); p.Count != 3 || len(p.Results) != 1 || p.Results[0].Action != model.ActionRecordList {
		t.Errorf("second page of one: %+v", p)
	}
}

// Staff read anyone's log; a patient reads only their own, and another
// account's is not found, as is one that does not exist. Bad filters
// answer 400 naming the field.
func TestAccessLogAuthorisation(t *testing.T) {
	h := newHarness(t)
	ann := h.signup("ann@example.org")
	bob := h.signup("bob@example.org")
	sam := h.staff("sam@example.org")
	r := mrCreate(h, ann.Access, nil)
	h.clock.Advance(time.Second)
	h.get(mrPath+"/"+r.ID, sam.Access).expect(http.StatusOK)

	if p := alEntries(h, alUserPath(ann.ID), sam.Access); p.Count != 1 || p.Results[0].Action != model.ActionRecordRead {
		t.Errorf("staff reading Ann's log: %+v", p)
	}
	if p := alEntries(h, alUserPath(ann.ID), ann.Access); p.Count < 1 {
		t.Errorf("Ann reading her own log by id: %+v", p)
	}
	h.get(alUserPath(ann.ID), bob.Access).expectError(http.StatusNotFound, "Not found.")
	h.get(alUserPath("5f0c4f8e-0000-4000-8000-000000000000"), sam.Access).expectError(http.StatusNotFound, "Not found.")
	h.get(alUserPath("nope"), sam.Access).expectError(http.StatusNotFound, "Not found.")
	h.get(alPath, "").expect(http.StatusUnauthorized)
	h.get(alPath+"?record_id=nope", ann.Access).expectError(http.StatusBadRequest, "", "record_id")
	h.get(alPath+"?since=yesterday", ann.Access).expectError(http.StatusBadRequest, "", "since")
}

// Reading an access log is itself audited, and shows in the log of the
// person whose log it is when someone else read it.
func TestReadingAnAccessLogIsAudited(t *testing.T) {
	h := newHarness(t)
	ann := h.signup("ann@example.org")
	sam := h.staff("sam@example.org")
	h.clock.Advance(time.Second)
	alEntries(h, alUserPath(ann.ID), sam.Access)
	e := h.newestEventBy(sam.ID)
	if e.Action != model.ActionAccessLogRead || e.EntityID == nil || *e.EntityID != ann.ID || !slices.Equal(e.SubjectIDs, []string{ann.ID}) {
		t.Fatalf("newest event of staff: %+v, want user.access_log of Ann", e)
	}
	h.clock.Advance(time.Second)
	p := alEntries(h, alPath, ann.Access)
	if p.Count != 1 || p.Results[0].Action != model.ActionAccessLogRead || p.Results[0].Actor == nil || p.Results[0].Actor.ID != sam.ID {
		t.Fatalf("Ann's log after staff read it: %+v", p.Results)
	}
	if e := h.newestEventBy(ann.ID); e.Action != model.ActionAccessLogRead {
		t.Errorf("Ann's own reading of her log wrote %s", e.Action)
	}
}

// The audit head is the chain's newest link, to staff only.
func TestAuditHead(t *testing.T) {
	h := newHarness(t)
	ann := h.signup("ann@example.org")
	sam := h.staff("sam@example.org")
	mrCreate(h, ann.Access, nil)
	var head model.AuditHead
	h.get("/api/audit-events/head", sam.Access).expect(http.StatusOK).decode(&head)
	newest := auAll(h)[0]
	if head.Count != newest.Seq || head.HeadHash != newest.Hash || head.At == nil || !head.At.Equal(newest.At) {
		t.Fatalf("head %+v, newest event seq %d hash %s at %v", head, newest.Seq, newest.Hash, newest.At)
	}
	if _, ok := chain.Parse(head.HeadHash); !ok || head.Count < 3 {
		t.Fatalf("head %+v", head)
	}
	h.get("/api/audit-events/head", ann.Access).expect(http.StatusForbidden)
	h.get("/api/audit-events/head", "").expect(http.StatusUnauthorized)
}
