package server_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/mattn/go-sqlite3"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

const auPath = "/api/audit-events"

// auAll returns every audit event in the database, newest first.
func auAll(h *harness) []model.AuditEvent {
	h.t.Helper()
	events, n, err := h.store.Read().ListAudit(context.Background(), db.AuditFilter{Limit: 100000})
	if err != nil {
		h.t.Fatal(err)
	}
	if n != len(events) {
		h.t.Fatalf("audit count %d but %d events", n, len(events))
	}
	return events
}

func auIDs(es []model.AuditEvent) []string {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids
}

func auActions(es []model.AuditEvent) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Action
	}
	return out
}

func auStr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func TestAuditEventsStaffOnly(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	s := h.staff("sam@example.org")

	h.get(auPath, a.Access).expectError(http.StatusForbidden, "You do not have permission to perform this action.")
	h.get(auPath+"?actor_id="+a.ID, a.Access).expectError(http.StatusForbidden, "")
	h.get(auPath, "").expectError(http.StatusUnauthorized, "")
	h.get(auPath, "not-a-token").expectError(http.StatusUnauthorized, "")
	p := listPage[model.AuditEvent](h, auPath, s.Access)
	if p.Count == 0 || p.Count != len(auAll(h)) {
		t.Fatalf("staff sees %d events, database holds %d", p.Count, len(auAll(h)))
	}
	listPage[model.AuditEvent](h, auPath+"/", s.Access) // trailing slash
}

func TestAuditEventsList(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	s := h.staff("sam@example.org")
	for range 3 {
		h.clock.Advance(time.Second)
		r := mrCreate(h, a.Access, nil)
		h.clock.Advance(time.Second)
		h.get(mrPath+"/"+r.ID, a.Access).expect(http.StatusOK)
		h.clock.Advance(time.Second)
		h.delete(mrPath+"/"+r.ID, s.Access).expect(http.StatusNoContent)
	}
	all := auAll(h)
	if len(all) < 11 {
		t.Fatalf("only %d events after signup, login and 9 record actions", len(all))
	}

	// One page with everything: newest first.
	res := h.get(auPath+"?page_size=100", s.Access).expect(http.StatusOK)
	var p model.Page[model.AuditEvent]
	res.decode(&p)
	if p.Count != len(all) || !slices.Equal(auIDs(p.Results), auIDs(all)) {
		t.Fatalf("list %v (count %d), want %v", auActions(p.Results), p.Count, auActions(all))
	}
	for i := 1; i < len(p.Results); i++ {
		if !p.Results[i-1].At.After(p.Results[i].At) {
			t.Fatalf("event %d at %v is not newer than event %d at %v", i-1, p.Results[i-1].At, i, p.Results[i].At)
		}
	}
	if got := p.Results[0]; got.Action != model.ActionRecordDelete || auStr(got.ActorID) != s.ID {
		t.Fatalf("newest event %+v, want the last delete by staff", got)
	}
	// The wire shape of an event.
	var raw struct {
		Results []map[string]any `json:"results"`
	}
	res.decode(&raw)
	for _, e := range raw.Results {
		keys := make([]string, 0, len(e))
		for k := range e {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		// Signing in and out concerns the actor alone: no subjects.
		want := []string{"action", "actor_id", "at", "entity", "entity_id", "hash", "id", "ip", "prev_hash", "seq", "subject_ids", "via"}
		if a, _ := e["action"].(string); strings.HasPrefix(a, "auth.") && a != model.ActionSignup {
			want = slices.DeleteFunc(want, func(k string) bool { return k == "subject_ids" })
		}
		if !slices.Equal(keys, want) {
			t.Fatalf("event fields %v, want %v", keys, want)
		}
		at, _ := e["at"].(string)
		if _, err := time.Parse(time.RFC3339Nano, at); err != nil || !strings.HasSuffix(at, "Z") {
			t.Fatalf("at %q is not RFC 3339 UTC", at)
		}
		if id, _ := e["id"].(string); !model.ValidUUID(id) {
			t.Fatalf("event id %q", id)
		}
	}

	// Paginated: the pages, in order, are the same list.
	var walked []string
	link := auPath + "?page_size=4"
	pages := 0
	for link != "" {
		pages++
		if pages > 10 {
			t.Fatal("next links do not end")
		}
		pg := listPage[model.AuditEvent](h, link, s.Access)
		if pg.Count != len(all) || pg.NumberOfPages != (len(all)+3)/4 {
			t.Fatalf("page %d: count %d pages %d", pages, pg.Count, pg.NumberOfPages)
		}
		if (pages == 1) != (pg.Previous == nil) {
			t.Fatalf("page %d: previous %v", pages, pg.Previous)
		}
		walked = append(walked, auIDs(pg.Results)...)
		link = ""
		if pg.Next != nil {
			u, err := url.Parse(*pg.Next)
			if err != nil || !u.IsAbs() || u.Query().Get("page") != string(rune('0'+pages+1)) {
				t.Fatalf("next link %q", *pg.Next)
			}
			link = u.RequestURI()
		}
	}
	if pages != (len(all)+3)/4 || !slices.Equal(walked, auIDs(all)) {
		t.Fatalf("walked %d pages, %d events; want %d events in order", pages, len(walked), len(all))
	}
	h.get(auPath+"?page_size=4&page=99", s.Access).expectError(http.StatusNotFound, "Invalid page.")

	// Listing is not itself audited and changes nothing.
	if after := auAll(h); !reflect.DeepEqual(after, all) {
		t.Fatalf("listing changed the audit trail: %d → %d events", len(all), len(after))
	}
}

func TestAuditEventsFilters(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	b := h.signup("bob@example.org")
	s := h.staff("sam@example.org")
	step := func() { h.clock.Advance(time.Second) }

	step()
	ra := mrCreate(h, a.Access, nil)
	step()
	rb := mrCreate(h, b.Access, nil)
	step()
	h.get(mrPath+"/"+ra.ID, a.Access).expect(http.StatusOK)
	step()
	h.get(mrPath+"/"+rb.ID, s.Access).expect(http.StatusOK)

	// A day later.
	h.clock.Advance(24 * time.Hour)
	mark := h.clock.Now()
	a = h.login("ann@example.org", testPassword)
	b = h.login("bob@example.org", testPassword)
	s = h.login("sam@example.org", testPassword)
	step()
	h.patch(mrPath+"/"+ra.ID, map[string]any{"doctor": "Dr. Later"}, a.Access).expect(http.StatusOK)
	step()
	h.delete(mrPath+"/"+rb.ID, b.Access).expect(http.StatusNoContent)
	step()
	h.post("/api/auth/login", map[string]any{"email": "ann@example.org", "password": "wrong-password-1"}, "").
		expect(http.StatusUnauthorized)

	all := auAll(h)
	where := func(keep func(model.AuditEvent) bool) []model.AuditEvent {
		var out []model.AuditEvent
		for _, e := range all {
			if keep(e) {
				out = append(out, e)
			}
		}
		return out
	}
	byActor := func(id string) func(model.AuditEvent) bool {
		return func(e model.AuditEvent) bool { return auStr(e.ActorID) == id }
	}
	byEntity := func(id string) func(model.AuditEvent) bool {
		return func(e model.AuditEvent) bool { return auStr(e.EntityID) == id }
	}
	byAction := func(act string) func(model.AuditEvent) bool {
		return func(e model.AuditEvent) bool { return e.Action == act }
	}
	since := func(ts time.Time) func(model.AuditEvent) bool {
		return func(e model.AuditEvent) bool { return !e.At.Before(ts) }
	}
	and := func(fs ...func(model.AuditEvent) bool) func(model.AuditEvent) bool {
		return func(e model.AuditEvent) bool {
			for _, f := range fs {
				if !f(e) {
					return false
				}
			}
			return true
		}
	}
	q := func(kv ...string) string {
		v := url.Values{"page_size": {"100"}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return auPath + "?" + v.Encode()
	}
	midnight := time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)

	cases := []struct {
		name  string
		path  string
		want  []model.AuditEvent
		check func(t *testing.T, got []model.AuditEvent)
	}{
		{"actor A", q("actor_id", a.ID), where(byActor(a.ID)), func(t *testing.T, got []model.AuditEvent) {
			acts := auActions(got)
			for _, w := range []string{model.ActionSignup, model.ActionRecordCreate, model.ActionRecordRead, model.ActionRecordUpdate, model.ActionLogin} {
				if !slices.Contains(acts, w) {
					t.Errorf("A's events %v lack %s", acts, w)
				}
			}
		}},
		{"actor staff", q("actor_id", s.ID), where(byActor(s.ID)), func(t *testing.T, got []model.AuditEvent) {
			if !slices.ContainsFunc(got, func(e model.AuditEvent) bool {
				return e.Action == model.ActionRecordRead && auStr(e.EntityID) == rb.ID
			}) {
				t.Errorf("staff's read of B's record missing: %v", auActions(got))
			}
		}},
		{"actor unknown", q("actor_id", uuid.NewString()), nil, nil},
		{"entity record A", q("entity_id", ra.ID), where(byEntity(ra.ID)), func(t *testing.T, got []model.AuditEvent) {
			if want := []string{model.ActionRecordUpdate, model.ActionRecordRead, model.ActionRecordCreate}; !slices.Equal(auActions(got), want) {
				t.Errorf("record A's events %v, want %v", auActions(got), want)
			}
		}},
		{"entity record B", q("entity_id", rb.ID), where(byEntity(rb.ID)), func(t *testing.T, got []model.AuditEvent) {
			if want := []string{model.ActionRecordDelete, model.ActionRecordRead, model.ActionRecordCreate}; !slices.Equal(auActions(got), want) {
				t.Errorf("record B's events %v, want %v", auActions(got), want)
			}
		}},
		{"entity user A", q("entity_id", a.ID), where(byEntity(a.ID)), func(t *testing.T, got []model.AuditEvent) {
			if !slices.Contains(auActions(got), model.ActionLoginFailed) {
				t.Errorf("failed login on A's account missing: %v", auActions(got))
			}
		}},
		{"action create", q("action", model.ActionRecordCreate), where(byAction(model.ActionRecordCreate)), func(t *testing.T, got []model.AuditEvent) {
			if len(got) != 2 {
				t.Errorf("%d record.create events, want 2", len(got))
			}
		}},
		// An action that is none answers 400 (TestAuditActionFilterIsValidated).
		{"since RFC 3339", q("since", mark.Format(time.RFC3339Nano)), where(since(mark)), func(t *testing.T, got []model.AuditEvent) {
			if slices.Contains(auActions(got), model.ActionRecordCreate) || !slices.Contains(auActions(got), model.ActionRecordDelete) {
				t.Errorf("events since the mark: %v", auActions(got))
			}
		}},
		{"since RFC 3339 with offset", q("since", mark.In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano)), where(since(mark)), nil},
		{"since date", q("since", "2026-03-11"), where(since(midnight)), func(t *testing.T, got []model.AuditEvent) {
			if len(got) == 0 || len(got) == len(all) {
				t.Errorf("since 2026-03-11 kept %d of %d events", len(got), len(all))
			}
		}},
		{"since earlier date", q("since", "2026-03-10"), all, nil},
		{"since the future", q("since", "2030-01-01T00:00:00Z"), nil, nil},
		{"actor and action", q("actor_id", a.ID, "action", model.ActionRecordUpdate), where(and(byActor(a.ID), byAction(model.ActionRecordUpdate))), func(t *testing.T, got []model.AuditEvent) {
			if len(got) != 1 || auStr(got[0].EntityID) != ra.ID {
				t.Errorf("A's updates: %+v", got)
			}
		}},
		{"actor and since", q("actor_id", b.ID, "since", "2026-03-11"), where(and(byActor(b.ID), since(midnight))), nil},
		{"entity and action", q("entity_id", rb.ID, "action", model.ActionRecordRead), where(and(byEntity(rb.ID), byAction(model.ActionRecordRead))), func(t *testing.T, got []model.AuditEvent) {
			if len(got) != 1 || auStr(got[0].ActorID) != s.ID {
				t.Errorf("reads of B's record: %+v", got)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := mrSub(h, t)
			p := listPage[model.AuditEvent](h, tc.path, s.Access)
			if p.Count != len(tc.want) || !slices.Equal(auIDs(p.Results), auIDs(tc.want)) {
				t.Fatalf("got %d %v, want %d %v", p.Count, auActions(p.Results), len(tc.want), auActions(tc.want))
			}
			if p.Results == nil {
				t.Fatal("results is null")
			}
			if tc.check != nil {
				tc.check(t, p.Results)
			}
		})
	}
}

func TestAuditEventsInvalidParameters(t *testing.T) {
	h := newHarness(t)
	s := h.staff("sam@example.org")
	cases := []struct {
		query  string
		fields []string
	}{
		{"actor_id=not-a-uuid", []string{"actor_id"}},
		{"actor_id=1", []string{"actor_id"}},
		{"entity_id=123", []string{"entity_id"}},
		{"entity_id=" + url.QueryEscape("' OR 1=1 --"), []string{"entity_id"}},
		{"since=yesterday", []string{"since"}},
		{"since=2026-03-10T09%3A30", []string{"since"}},
		{"since=2026-13-01", []string{"since"}},
		{"since=10%2F03%2F2026", []string{"since"}},
		{"since=1741599000", []string{"since"}},
		{"page_size=0", []string{"page_size"}},
		{"page_size=101", []string{"page_size"}},
		{"page=abc", []string{"page"}},
		{"actor_id=x&entity_id=y&since=z", []string{"actor_id", "entity_id", "since"}},
	}
	h.get(auPath+"?since=2026-02-30", s.Access).
		expectError(http.StatusBadRequest, "This date does not exist. February 2026 has 28 days.", "since")
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			h := mrSub(h, t)
			e := h.get(auPath+"?"+tc.query, s.Access).expectError(http.StatusBadRequest, "", tc.fields...)
			if e.Message != e.Errors[tc.fields[0]][0] {
				t.Fatalf("message %q is not the first field error %q", e.Message, e.Errors[tc.fields[0]])
			}
		})
	}
}

func TestAuditEventsCannotBeChangedThroughAPI(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	s := h.staff("sam@example.org")
	mrCreate(h, a.Access, nil)
	before := auAll(h)
	target := before[0].ID

	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		for _, path := range []string{auPath, auPath + "/", auPath + "/" + target} {
			t.Run(method+" "+path, func(t *testing.T) {
				h := mrSub(h, t)
				res := h.send(request{method: method, path: path, token: s.Access,
					body: map[string]any{"id": target, "action": "tampered", "actor_id": a.ID}})
				if res.Status != http.StatusMethodNotAllowed && res.Status != http.StatusNotFound {
					t.Fatalf("status %d, want 405 or 404: %s", res.Status, res.Body)
				}
			})
		}
	}
	// No detail route either.
	h.get(auPath+"/"+target, s.Access).expectError(http.StatusNotFound, "")
	if after := auAll(h); !reflect.DeepEqual(after, before) {
		t.Fatalf("audit trail changed: %d → %d events", len(before), len(after))
	}
}

func TestAuditEventsAppendOnlyInDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "anavara.db")
	h, _ := htHarnessAt(t, path)
	a := h.signup("ann@example.org")
	r := mrCreate(h, a.Access, nil)
	listPage[model.MedicalRecord](h, mrPath, a.Access) // an event naming r in record_ids
	before := auAll(h)
	if len(before) < 3 {
		t.Fatalf("%d events", len(before))
	}

	conn, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000&_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM audit_events").Scan(&n); err != nil || n != len(before) {
		t.Fatalf("direct connection sees %d events (err %v), want %d", n, err, len(before))
	}

	tamper := []struct {
		name string
		stmt string
		args []any
	}{
		{"update all", "UPDATE audit_events SET action = 'tampered'", nil},
		{"update one", "UPDATE audit_events SET actor_id = NULL WHERE entity_id = ?", []any{r.ID}},
		{"delete one", "DELETE FROM audit_events WHERE entity_id = ?", []any{r.ID}},
		{"delete all", "DELETE FROM audit_events", nil},
		// What a list served is part of its event: audit_index only
		// indexes it.
		{"forget what a list served", "UPDATE audit_events SET record_ids = NULL WHERE action = ?", []any{model.ActionRecordList}},
	}
	for _, tc := range tamper {
		t.Run(tc.name, func(t *testing.T) {
			res, err := conn.ExecContext(ctx, tc.stmt, tc.args...)
			if err == nil {
				n, _ := res.RowsAffected()
				t.Fatalf("%s succeeded (%d rows)", tc.stmt, n)
			}
			if !strings.Contains(err.Error(), "append-only") {
				t.Logf("refused with: %v", err)
			}
		})
	}
	// Inside a transaction too.
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM audit_events"); err == nil {
		t.Error("DELETE inside a transaction succeeded")
	}
	_ = tx.Rollback()

	h = mrSub(h, t)
	if after := auAll(h); !reflect.DeepEqual(after, before) {
		t.Fatalf("audit trail changed: %v → %v", auActions(before), auActions(after))
	}
	// Appending still works.
	h.get(mrPath+"/"+r.ID, a.Access).expect(http.StatusOK)
	if got := h.auditActions(r.ID); !slices.Equal(got, []string{model.ActionRecordCreate, model.ActionRecordList, model.ActionRecordRead}) {
		t.Fatalf("after tampering attempts, record audit %v", got)
	}
}
