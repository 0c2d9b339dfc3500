package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// cursorRecord is a record of owner's made at created, its patient name,
// treatment date and doctor picked from n so that the orderings differ.
func cursorRecord(owner string, created time.Time, n int) model.MedicalRecord {
	return model.MedicalRecord{ID: uuid.NewString(), UserID: owner, PatientName: fmt.Sprintf("Patient %04d", (n*37)%1000),
		DateOfBirth: model.NewDate(1980, time.May, 1), Diagnosis: "Sprained ankle", Treatment: "Rest",
		DateOfTreatment: model.NewDate(2031, time.January, 1+n%28), Doctor: []string{"Dr. Osei", "Dr. Lind"}[n%2],
		Created: created, Updated: created, Version: 1}
}

// storeRecords writes rs straight to the store, in one transaction.
func storeRecords(t *testing.T, h *harness, rs ...model.MedicalRecord) {
	t.Helper()
	err := h.store.Write(context.Background(), func(tx db.Tx) error {
		for _, r := range rs {
			if err := tx.CreateRecord(context.Background(), r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("create records: %v", err)
	}
}

// requestURI is the path and query of an absolute link.
func requestURI(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || !u.IsAbs() {
		t.Fatalf("link %q is not an absolute URL: %v", link, err)
	}
	return u.RequestURI()
}

// followCursor fetches the page a link of a page by cursor names, after
// checking that it carries the cursor given alongside it.
func followCursor[T any](t *testing.T, h *harness, link, cursor *string, token string) model.Page[T] {
	t.Helper()
	if link == nil || cursor == nil {
		t.Fatalf("link %v and cursor %v: want both", link, cursor)
	}
	if got := mustParse(t, *link).Query().Get("cursor"); got != *cursor {
		t.Fatalf("link %s carries cursor %q, want %q", *link, got, *cursor)
	}
	return cursorPage[T](t, h, requestURI(t, *link), token)
}

func mustParse(t *testing.T, link string) *url.URL {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// cursorPage GETs a page by cursor and checks its shape: the cursors
// present (maybe null), no number of pages, each link with its cursor.
func cursorPage[T any](t *testing.T, h *harness, path, token string) model.Page[T] {
	t.Helper()
	res := h.get(path, token).expect(http.StatusOK)
	var raw map[string]json.RawMessage
	res.decode(&raw)
	for _, k := range []string{"next_cursor", "previous_cursor", "count", "next", "previous", "results"} {
		if _, ok := raw[k]; !ok {
			t.Fatalf("GET %s: no %q in %s", path, k, res.Body)
		}
	}
	if _, ok := raw["number_of_pages"]; ok {
		t.Fatalf("GET %s: a page by cursor with number_of_pages: %s", path, res.Body)
	}
	var p model.Page[T]
	res.decode(&p)
	if (p.Next == nil) != (p.NextCursor == nil) || (p.Previous == nil) != (p.PreviousCursor == nil) {
		t.Fatalf("GET %s: links and cursors disagree: %s", path, res.Body)
	}
	return p
}

// walkCursor follows next from the first page at path to the last,
// calling between (if not nil) after each page, and returns every id
// served, in order.
func walkCursor[T any](t *testing.T, h *harness, path, token string, id func(T) string, between func(page []T)) []string {
	t.Helper()
	var got []string
	p := cursorPage[T](t, h, path, token)
	if p.Previous != nil {
		t.Fatalf("first page by cursor has a previous page")
	}
	for i := 0; ; i++ {
		for _, x := range p.Results {
			got = append(got, id(x))
		}
		if between != nil {
			between(p.Results)
		}
		if p.Next == nil {
			return got
		}
		if i > 1000 {
			t.Fatal("the walk does not end")
		}
		p = followCursor[T](t, h, p.Next, p.NextCursor, token)
	}
}

func recordIDOf(r model.MedicalRecord) string { return r.ID }

// A walk by cursor lists every record there was when it began once, while
// records are added meanwhile: some from another goroutine all along, and
// some between every two pages, before the walk's position, right at it
// (the same sort key) and past its end. Walked by page number the same
// way, a record is listed twice.
func TestCursorWalkUnderInserts(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("cursor-staff@example.org")
	patient := h.signup("cursor-patient@example.org")
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var start []model.MedicalRecord
	for i := range 120 {
		start = append(start, cursorRecord(patient.ID, base.Add(time.Duration(i)*time.Minute), i))
	}
	storeRecords(t, h, start...)

	n := 1000
	next := func() int { n++; return n }
	for _, tc := range []struct {
		ordering string
		// around are records that sort before the walk's start, at the
		// position of last (its key, another id), and past the end.
		around func(last model.MedicalRecord) []model.MedicalRecord
	}{
		{"-created", func(last model.MedicalRecord) []model.MedicalRecord {
			return []model.MedicalRecord{
				cursorRecord(patient.ID, base.Add(time.Duration(1000+next())*time.Hour), n),
				cursorRecord(patient.ID, last.Created, next()),
				cursorRecord(patient.ID, base.Add(-time.Duration(next())*time.Hour), n),
			}
		}},
		{"created", func(last model.MedicalRecord) []model.MedicalRecord {
			return []model.MedicalRecord{
				cursorRecord(patient.ID, base.Add(-time.Duration(next())*time.Hour), n),
				cursorRecord(patient.ID, last.Created, next()),
				cursorRecord(patient.ID, base.Add(time.Duration(1000+next())*time.Hour), n),
			}
		}},
		{"patient_name", func(last model.MedicalRecord) []model.MedicalRecord {
			first, at, end := cursorRecord(patient.ID, base, next()), cursorRecord(patient.ID, base, next()), cursorRecord(patient.ID, base, next())
			first.PatientName, at.PatientName, end.PatientName = "Aaron "+fmt.Sprint(n), last.PatientName, "Zed "+fmt.Sprint(n)
			return []model.MedicalRecord{first, at, end}
		}},
		{"-date_of_treatment", func(last model.MedicalRecord) []model.MedicalRecord {
			first, at, end := cursorRecord(patient.ID, base, next()), cursorRecord(patient.ID, base, next()), cursorRecord(patient.ID, base, next())
			first.DateOfTreatment, at.DateOfTreatment, end.DateOfTreatment = model.NewDate(2040, 1, 1), last.DateOfTreatment, model.NewDate(2030, 1, 1)
			return []model.MedicalRecord{first, at, end}
		}},
	} {
		t.Run(tc.ordering, func(t *testing.T) {
			// Records before the walk: the start, and what earlier
			// subtests added.
			before, _, err := h.store.Read().ListRecords(context.Background(), db.RecordFilter{Limit: 10000})
			if err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			inserted := 0
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					// Among the records there, in every ordering.
					r := cursorRecord(patient.ID, base.Add(time.Duration(i%300-150)*time.Minute+time.Second), 5000+i)
					storeRecords(t, h, r)
					inserted++
					time.Sleep(3 * time.Millisecond)
				}
			}()
			got := walkCursor(t, h, "/api/medical-records?paginate=cursor&page_size=7&ordering="+tc.ordering, staff.Access, recordIDOf,
				func(page []model.MedicalRecord) {
					if len(page) > 0 {
						storeRecords(t, h, tc.around(page[len(page)-1])...)
					}
				})
			close(stop)
			wg.Wait()
			if inserted == 0 {
				t.Error("no record was added while the walk went on")
			}
			seen := map[string]int{}
			for _, id := range got {
				seen[id]++
				if seen[id] == 2 {
					t.Errorf("record %s listed twice", id)
				}
			}
			for _, r := range before {
				if seen[r.ID] != 1 {
					t.Errorf("record %s (there at the start) listed %d times, want once", r.ID, seen[r.ID])
				}
			}
		})
	}

	// By page number, newest first, a record added at the top between
	// two pages pushes the last of one page onto the next.
	var byNumber []string
	for page := 1; ; page++ {
		p := listPage[model.MedicalRecord](h, fmt.Sprintf("/api/medical-records?page_size=7&page=%d", page), staff.Access)
		for _, r := range p.Results {
			byNumber = append(byNumber, r.ID)
		}
		if p.Next == nil || page > 3 {
			break
		}
		storeRecords(t, h, cursorRecord(patient.ID, base.Add(time.Duration(100000+page)*time.Hour), page))
	}
	if len(byNumber) == len(compactSorted(byNumber)) {
		t.Errorf("pages by number repeated no record: the comparison shows nothing")
	}
}

// compactSorted is xs sorted without duplicates.
func compactSorted(xs []string) []string {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return slices.Compact(xs)
}

// Walking back by previous from the last page gives the pages walked
// forward, in the same order, for every ordering both ways, with filters
// and a search; each page holds page_size records but the last (and, by
// cursor, the way back never cuts a page short but at the start). Every
// page of a list by cursor is audited with the records it served.
func TestCursorPreviousAndFilters(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("prev-staff@example.org")
	patient := h.signup("prev-patient@example.org")
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var all []model.MedicalRecord
	for i := range 40 {
		r := cursorRecord(patient.ID, base.Add(time.Duration(i/3)*time.Minute), i) // created: ties in threes
		if i%4 == 0 {
			r.Diagnosis = "Influenza"
		}
		all = append(all, r)
	}
	storeRecords(t, h, all...)
	for _, query := range []string{
		"ordering=-created", "ordering=created", "ordering=patient_name", "ordering=-patient_name",
		"ordering=date_of_treatment", "ordering=-updated", "",
		"search=influ", "search=ankle&ordering=patient_name", "doctor=dr.+osei&ordering=-date_of_treatment",
		"date_of_treatment_after=2031-01-05&date_of_treatment_before=2031-01-20&search=sprain&ordering=created",
		"user_id=" + patient.ID,
	} {
		t.Run(query, func(t *testing.T) {
			all := listPage[model.MedicalRecord](h, "/api/medical-records?page_size=100&"+query, staff.Access)
			want := recordIDs(all.Results)
			var pages [][]string
			var last model.Page[model.MedicalRecord]
			p := cursorPage[model.MedicalRecord](t, h, "/api/medical-records?paginate=cursor&page_size=6&"+query, staff.Access)
			for {
				if p.Count != len(want) {
					t.Errorf("count %d, want %d", p.Count, len(want))
				}
				pages = append(pages, recordIDs(p.Results))
				last = p
				if p.Next == nil {
					break
				}
				p = followCursor[model.MedicalRecord](t, h, p.Next, p.NextCursor, staff.Access)
			}
			if got := slices.Concat(pages...); !slices.Equal(got, want) {
				t.Fatalf("forward:\n got  %v\n want %v", got, want)
			}
			// Back from the last page.
			var back [][]string
			for p = last; p.Previous != nil; {
				p = followCursor[model.MedicalRecord](t, h, p.Previous, p.PreviousCursor, staff.Access)
				back = append([][]string{recordIDs(p.Results)}, back...)
			}
			if len(back) != len(pages)-1 {
				t.Fatalf("%d pages back, want %d", len(back), len(pages)-1)
			}
			for i := range back {
				if !slices.Equal(back[i], pages[i]) {
					t.Errorf("page %d back:\n got  %v\n want %v", i+1, back[i], pages[i])
				}
			}
			// And forward again from the first page reached backwards.
			if len(pages) > 1 {
				if p.Next == nil {
					t.Fatal("the first page reached backwards has no next")
				}
				again := followCursor[model.MedicalRecord](t, h, p.Next, p.NextCursor, staff.Access)
				if !slices.Equal(recordIDs(again.Results), pages[1]) {
					t.Errorf("forward again:\n got  %v\n want %v", recordIDs(again.Results), pages[1])
				}
			}
		})
	}

	// The page's audit event names the records served, the mode, and no
	// page number.
	p := cursorPage[model.MedicalRecord](t, h, "/api/medical-records?paginate=cursor&page_size=5&ordering=created", patient.Access)
	p = followCursor[model.MedicalRecord](t, h, p.Next, p.NextCursor, patient.Access)
	events, _, err := h.store.Read().ListAudit(context.Background(), db.AuditFilter{ActorID: patient.ID, Action: model.ActionRecordList, Limit: 1})
	if err != nil || len(events) != 1 {
		t.Fatalf("the list's event: %v, %v", events, err)
	}
	if !slices.Equal(events[0].RecordIDs, recordIDs(p.Results)) {
		t.Errorf("event serves %v, want %v", events[0].RecordIDs, recordIDs(p.Results))
	}
	var detail map[string]any
	if err := json.Unmarshal(events[0].Detail, &detail); err != nil || detail["paginate"] != "cursor" || detail["page"] != nil || detail["page_size"] != 5.0 || detail["count"] != 40.0 {
		t.Errorf("event detail %s, want paginate cursor, no page, page_size 5, count 40", events[0].Detail)
	}
}

func recordIDs(rs []model.MedicalRecord) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// A patient's walk by cursor shows their own records only, and a cursor
// opens only for the caller, list, filters and ordering it was made for:
// another patient's, staff's, another list's or one sent with other
// filters answers 400 naming cursor, as do damaged ones; page numbers and
// cursors do not mix.
func TestCursorIsolationAndBadCursors(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("iso-staff@example.org")
	a, b := h.signup("iso-a@example.org"), h.signup("iso-b@example.org")
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mine []string
	for i := range 9 {
		ra, rb := cursorRecord(a.ID, base.Add(time.Duration(i)*time.Minute), i), cursorRecord(b.ID, base.Add(time.Duration(i)*time.Minute+time.Second), i)
		storeRecords(t, h, ra, rb)
		mine = append([]string{ra.ID}, mine...)
	}
	if got := walkCursor(t, h, "/api/medical-records?paginate=cursor&page_size=2", a.Access, recordIDOf, nil); !slices.Equal(got, mine) {
		t.Errorf("patient's walk:\n got  %v\n want %v", got, mine)
	}
	// b's list, staff's, and a's with another's user_id.
	first := func(path, token string) *string {
		p := cursorPage[model.MedicalRecord](t, h, path, token)
		if p.NextCursor == nil {
			t.Fatalf("%s: no next cursor", path)
		}
		return p.NextCursor
	}
	aCursor := first("/api/medical-records?paginate=cursor&page_size=2", a.Access)
	bCursor := first("/api/medical-records?paginate=cursor&page_size=2", b.Access)
	staffCursor := first("/api/medical-records?paginate=cursor&page_size=2", staff.Access)
	usersCursor := func() *string {
		for range 3 {
			h.signup(uuid.NewString()[:8] + "@example.org")
		}
		return cursorPage[model.User](t, h, "/api/users?paginate=cursor&page_size=2", staff.Access).NextCursor
	}()
	tampered := func(c string) string {
		raw, _ := base64.RawURLEncoding.DecodeString(c)
		raw[len(raw)/2] ^= 1
		return base64.RawURLEncoding.EncodeToString(raw)
	}
	for _, tc := range []struct {
		name, path, token, field string
	}{
		{"another patient's cursor", "/api/medical-records?cursor=" + *bCursor, a.Access, "cursor"},
		{"staff's cursor", "/api/medical-records?cursor=" + *staffCursor, a.Access, "cursor"},
		{"a patient's cursor, for staff", "/api/medical-records?cursor=" + *aCursor, staff.Access, "cursor"},
		{"another ordering", "/api/medical-records?ordering=created&cursor=" + *aCursor, a.Access, "cursor"},
		{"another filter", "/api/medical-records?search=ankle&cursor=" + *aCursor, a.Access, "cursor"},
		{"another list's cursor", "/api/medical-records?cursor=" + *usersCursor, staff.Access, "cursor"},
		{"a records cursor on users", "/api/users?cursor=" + *staffCursor, staff.Access, "cursor"},
		{"a records cursor on the audit trail", "/api/audit-events?cursor=" + *staffCursor, staff.Access, "cursor"},
		{"a records cursor on the access log", "/api/users/me/access-log?cursor=" + *aCursor, a.Access, "cursor"},
		{"tampered", "/api/medical-records?cursor=" + tampered(*aCursor), a.Access, "cursor"},
		{"truncated", "/api/medical-records?cursor=" + (*aCursor)[:20], a.Access, "cursor"},
		{"garbage", "/api/medical-records?cursor=not-a-cursor", a.Access, "cursor"},
		{"not base64url", "/api/medical-records?cursor=%2B%2F%3D%3D", a.Access, "cursor"},
		{"empty", "/api/medical-records?paginate=cursor&cursor=", a.Access, "cursor"},
		{"with page", "/api/medical-records?page=2&cursor=" + *aCursor, a.Access, "page"},
		{"page by cursor with page", "/api/medical-records?paginate=cursor&page=1", a.Access, "page"},
		{"cursor with paginate=page", "/api/medical-records?paginate=page&cursor=" + *aCursor, a.Access, "cursor"},
		{"unknown paginate", "/api/medical-records?paginate=keyset", a.Access, "paginate"},
		{"users: unknown paginate", "/api/users?paginate=offset", staff.Access, "paginate"},
		{"audit: garbage", "/api/audit-events?cursor=x", staff.Access, "cursor"},
		{"access log: garbage", "/api/users/" + a.ID + "/access-log?cursor=x", staff.Access, "cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := h.get(tc.path, tc.token).expect(http.StatusBadRequest).errorBody()
			if _, ok := body.Errors[tc.field]; !ok {
				t.Errorf("errors %v do not name %s", body.Errors, tc.field)
			}
		})
	}
	// The same cursor with another page_size is the same list.
	p := cursorPage[model.MedicalRecord](t, h, "/api/medical-records?page_size=3&cursor="+*aCursor, a.Access)
	if !slices.Equal(recordIDs(p.Results), mine[2:5]) {
		t.Errorf("page of 3 after the first 2: %v, want %v", recordIDs(p.Results), mine[2:5])
	}
	// Page numbers still work, and say nothing of cursors.
	res := h.get("/api/medical-records?page=2&page_size=2", a.Access).expect(http.StatusOK)
	if strings.Contains(string(res.Body), "cursor") {
		t.Errorf("a page by number mentions cursors: %s", res.Body)
	}
}

// The users list, the audit trail and the access logs walk by cursor too,
// forward and back, and give what page numbers give.
func TestCursorOtherLists(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("other-staff@example.org")
	patient := h.signup("other-patient@example.org")
	for range 6 {
		h.signup(uuid.NewString()[:8] + "@example.org")
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	storeRecords(t, h, cursorRecord(patient.ID, base, 1), cursorRecord(patient.ID, base, 2))
	for range 6 {
		h.get("/api/medical-records?page_size=1", staff.Access).expect(http.StatusOK) // audited, concerning the patient
	}
	check := func(t *testing.T, path, token string, idOf func(json.RawMessage) string) {
		t.Helper()
		var whole model.Page[json.RawMessage]
		h.get(path+"?page_size=100", token).expect(http.StatusOK).decode(&whole)
		var want []string
		for _, x := range whole.Results {
			want = append(want, idOf(x))
		}
		if len(want) < 5 {
			t.Fatalf("%s: only %d items", path, len(want))
		}
		got := walkCursor(t, h, path+"?paginate=cursor&page_size=2", token, idOf, nil)
		// Reading a person's access log is itself in it: the read of the
		// whole list may top the walk's first page; the walk's own
		// reads come after its start, and are not in it.
		if extra := len(got) - len(want); extra < 0 || extra > 1 || !slices.Equal(got[extra:], want) {
			t.Errorf("%s by cursor:\n got  %v\n want %v", path, got, want)
		}
	}
	byID := func(x json.RawMessage) string {
		var v struct{ ID string }
		_ = json.Unmarshal(x, &v)
		return v.ID
	}
	t.Run("users", func(t *testing.T) { check(t, "/api/users", staff.Access, byID) })
	t.Run("audit events", func(t *testing.T) { check(t, "/api/audit-events", staff.Access, byID) })
	t.Run("access log", func(t *testing.T) { check(t, "/api/users/"+patient.ID+"/access-log", staff.Access, byID) })
	t.Run("my access log", func(t *testing.T) { check(t, "/api/users/me/access-log", patient.Access, byID) })
	t.Run("a patient's users list", func(t *testing.T) {
		p := cursorPage[model.User](t, h, "/api/users?paginate=cursor", patient.Access)
		if len(p.Results) != 1 || p.Results[0].ID != patient.ID || p.Next != nil {
			t.Errorf("a patient's users page by cursor: %+v", p)
		}
	})
}
