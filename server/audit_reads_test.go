package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/server"
)

// newestEventBy returns the newest audit event of actorID.
func (h *harness) newestEventBy(actorID string) model.AuditEvent {
	h.t.Helper()
	events, _, err := h.store.Read().ListAudit(context.Background(), db.AuditFilter{ActorID: actorID, Limit: 1})
	if err != nil || len(events) != 1 {
		h.t.Fatalf("newest event of %s: %v, %v", actorID, events, err)
	}
	return events[0]
}

// Every way of reading records writes one event, committed before the
// answer: the caller, the action, the filters without their free text and
// the ids of exactly the records served, in order; the patient's reads of
// their own records too.
func TestEveryReadOfRecordsIsAudited(t *testing.T) {
	h := newHarness(t)
	ann := h.signup("ann@example.org")
	bob := h.signup("bob@example.org")
	sam := h.staff("sam@example.org")
	for i := range 3 {
		h.clock.Advance(time.Second)
		mrCreate(h, ann.Access, map[string]any{"patient_name": "Ann Arbor", "diagnosis": []string{"Asthma", "Gout", "Flu"}[i]})
	}
	h.clock.Advance(time.Second)
	bobs := mrCreate(h, bob.Access, map[string]any{"patient_name": "Bob Baker", "diagnosis": "Asthma", "doctor": "Dr. Who"})

	for _, tc := range []struct {
		name   string
		who    account
		query  url.Values
		action string
		detail model.RecordListDetail
	}{
		{"patient's own list", ann, nil, model.ActionRecordList,
			model.RecordListDetail{UserID: ann.ID, Page: 1, PageSize: model.DefaultPageSize, Count: 3}},
		{"patient's own search", ann, url.Values{"search": {"asth"}}, model.ActionRecordSearch,
			model.RecordListDetail{Search: &model.TextShape{Length: 4, Words: 1}, UserID: ann.ID, Page: 1, PageSize: model.DefaultPageSize, Count: 1}},
		{"patient asking for another's", ann, url.Values{"user_id": {bob.ID}}, model.ActionRecordList,
			model.RecordListDetail{UserID: bob.ID, Page: 1, PageSize: model.DefaultPageSize, Count: 0}},
		{"staff list, second page", sam, url.Values{"page_size": {"2"}, "page": {"2"}, "ordering": {"patient_name"}}, model.ActionRecordList,
			model.RecordListDetail{Ordering: "patient_name", Page: 2, PageSize: 2, Count: 4}},
		{"staff search with every filter", sam, url.Values{"search": {"  Ásthma  bak "}, "doctor": {"dr. who"}, "user_id": {bob.ID},
			"date_of_treatment_after": {"2026-01-01"}, "date_of_treatment_before": {"2026-12-31"}}, model.ActionRecordSearch,
			model.RecordListDetail{Search: &model.TextShape{Length: 11, Words: 2}, Doctor: &model.TextShape{Length: 7, Words: 2}, UserID: bob.ID,
				TreatedAfter: ptrDate(model.NewDate(2026, 1, 1)), TreatedBefore: ptrDate(model.NewDate(2026, 12, 31)), Page: 1, PageSize: model.DefaultPageSize, Count: 1}},
		{"staff search finding nothing", sam, url.Values{"search": {"zzz"}}, model.ActionRecordSearch,
			model.RecordListDetail{Search: &model.TextShape{Length: 3, Words: 1}, Page: 1, PageSize: model.DefaultPageSize, Count: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := mrSub(h, t)
			h.clock.Advance(time.Second)
			page := listPage[model.MedicalRecord](h, mrPath+"?"+tc.query.Encode(), tc.who.Access)
			e := h.newestEventBy(tc.who.ID)
			if e.Action != tc.action || e.Entity != model.EntityRecord || e.EntityID != nil || e.IP == "" {
				t.Fatalf("event %+v, want %s about no one record", e, tc.action)
			}
			if !slices.Equal(e.RecordIDs, mrIDs(page.Results)) {
				t.Errorf("event names records %v, the page served %v", e.RecordIDs, mrIDs(page.Results))
			}
			want, _ := json.Marshal(tc.detail)
			if string(e.Detail) != string(want) {
				t.Errorf("detail %s\nwant   %s", e.Detail, want)
			}
		})
	}

	t.Run("opening one record", func(t *testing.T) {
		h := mrSub(h, t)
		h.clock.Advance(time.Second)
		h.get(mrPath+"/"+bobs.ID, sam.Access).expect(http.StatusOK)
		e := h.newestEventBy(sam.ID)
		if e.Action != model.ActionRecordRead || e.EntityID == nil || *e.EntityID != bobs.ID || e.RecordIDs != nil || e.Detail != nil {
			t.Fatalf("event %+v", e)
		}
	})
	t.Run("refused reads write nothing", func(t *testing.T) {
		h := mrSub(h, t)
		before := h.newestEventBy(ann.ID)
		h.get(mrPath+"?page_size=0", ann.Access).expect(http.StatusBadRequest)
		h.get(mrPath+"/"+bobs.ID, ann.Access).expect(http.StatusNotFound)
		if after := h.newestEventBy(ann.ID); after.ID != before.ID {
			t.Fatalf("a refused read was audited: %+v", after)
		}
	})
}

func ptrDate(d model.Date) *model.Date { return &d }

// Staff asking who saw a record get every list and search that served it
// (and not those that did not), beside the events about it, through the
// API's entity_id filter.
func TestAuditEventsFindTheListsThatServedARecord(t *testing.T) {
	h := newHarness(t)
	ann := h.signup("ann@example.org")
	sam := h.staff("sam@example.org")
	var mine []model.MedicalRecord
	for i := range 3 {
		h.clock.Advance(time.Second)
		mine = append(mine, mrCreate(h, ann.Access, map[string]any{"patient_name": []string{"Ann A", "Ann B", "Ann C"}[i]}))
	}
	target, other := mine[0], mine[2]
	h.clock.Advance(time.Second)
	listPage[model.MedicalRecord](h, mrPath, ann.Access) // serves all three
	h.clock.Advance(time.Second)
	// Oldest first, one to a page: page 1 serves target alone.
	listPage[model.MedicalRecord](h, mrPath+"?ordering=created&page_size=1", sam.Access)
	h.clock.Advance(time.Second)
	listPage[model.MedicalRecord](h, mrPath+"?search=ann+c", sam.Access) // serves other only
	h.clock.Advance(time.Second)
	h.get(mrPath+"/"+target.ID, sam.Access).expect(http.StatusOK)

	var page model.Page[model.AuditEvent]
	h.get("/api/audit-events?entity_id="+target.ID, sam.Access).expect(http.StatusOK).decode(&page)
	var got []string
	for _, e := range page.Results {
		got = append(got, e.Action+" by "+*e.ActorID)
	}
	want := []string{
		model.ActionRecordRead + " by " + sam.ID,
		model.ActionRecordList + " by " + sam.ID,
		model.ActionRecordList + " by " + ann.ID,
		model.ActionRecordCreate + " by " + ann.ID,
	}
	if !slices.Equal(got, want) || page.Count != len(want) {
		t.Fatalf("events of the record (count %d):\n%v\nwant\n%v", page.Count, got, want)
	}
	if served := page.Results[1].RecordIDs; !slices.Equal(served, []string{target.ID}) {
		t.Errorf("the staff list served %v", served)
	}
	h.get("/api/audit-events?entity_id="+other.ID+"&action="+model.ActionRecordSearch, sam.Access).expect(http.StatusOK).decode(&page)
	if page.Count != 1 || !slices.Equal(page.Results[0].RecordIDs, []string{other.ID}) {
		t.Fatalf("search events of the other record: %+v", page)
	}
	// A patient cannot ask.
	h.get("/api/audit-events?entity_id="+target.ID, ann.Access).expect(http.StatusForbidden)
}

// What a caller searched for, or which doctor they filtered by, may name a
// patient: neither reaches the audit trail nor any log line, whatever the
// log level.
func TestSearchTermsAreNeverStoredOrLogged(t *testing.T) {
	logs := &testenv.LockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHarness(t, withConfig(func(c *server.Config) { c.Logger = logger }))
	ann := h.signup("ann@example.org")
	sam := h.staff("sam@example.org")
	mrCreate(h, ann.Access, map[string]any{"patient_name": "Quillon Marrowby", "doctor": "Dr. Ystradgynlais"})
	secrets := []string{"Quillon", "Marrowby", "Ystradgynlais"}
	for _, q := range []url.Values{
		{"search": {"Quillon Marrowby"}},
		{"search": {"quil"}, "doctor": {"Dr. Ystradgynlais"}},
		{"doctor": {"dr. ystradgynlais"}, "page": {"9"}}, // past the end: 404
	} {
		for _, who := range []account{ann, sam} {
			res := h.get(mrPath+"?"+q.Encode(), who.Access)
			if res.Status != http.StatusOK && res.Status != http.StatusNotFound {
				t.Fatalf("GET %s: %d", q.Encode(), res.Status)
			}
		}
	}
	events, n, err := h.store.Read().ListAudit(context.Background(), db.AuditFilter{Limit: 1000})
	if err != nil || n < 4 {
		t.Fatalf("%d events, %v", n, err)
	}
	trail, _ := json.Marshal(events)
	for _, s := range secrets {
		for _, where := range []struct{ name, text string }{{"the audit trail", string(trail)}, {"the log", logs.String()}} {
			// The record itself names the patient: only its create event is
			// allowed near it, and that holds no text of it either.
			if strings.Contains(strings.ToLower(where.text), strings.ToLower(s)) {
				t.Errorf("%s holds %q", where.name, s)
			}
		}
	}
	if !strings.Contains(string(trail), `"search":{"length":16,"words":2}`) {
		t.Errorf("the trail lacks the first search's shape: %s", trail)
	}
}

// A read whose event cannot be written is not answered: no record leaves
// the server without its trace in the trail.
func TestReadNotAnsweredWithoutItsEvent(t *testing.T) {
	h := newHarness(t, withBusyTimeout(200*time.Millisecond))
	ann := h.signup("ann@example.org")
	r := mrCreate(h, ann.Access, map[string]any{"diagnosis": "Confidential diagnosis"})
	release := h.holdWriteLock()
	for _, path := range []string{mrPath, mrPath + "?search=confidential", mrPath + "/" + r.ID} {
		res := h.get(path, ann.Access)
		if res.Status < 500 || bytes.Contains(res.Body, []byte("Confidential")) || bytes.Contains(res.Body, []byte(r.ID)) {
			t.Errorf("GET %s with the trail unwritable: %d %s", path, res.Status, res.Body)
		}
	}
	release()
	if got := h.auditActions(r.ID); !slices.Equal(got, []string{model.ActionRecordCreate}) {
		t.Fatalf("events of the record: %v", got)
	}
	h.get(mrPath, ann.Access).expect(http.StatusOK)
}
