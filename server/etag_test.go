package server_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/anavara/anavara/model"
)

// The ETag and If-Match of records and users (server/etag.go).

// withIfMatch sends req with If-Match: tag.
func (h *harness) withIfMatch(method, path string, body any, token, tag string) *response {
	h.t.Helper()
	return h.send(request{method: method, path: path, body: body, token: token, headers: map[string]string{"If-Match": tag}})
}

// expectETag fails the test unless the response's ETag is want.
func (r *response) expectETag(want string) *response {
	r.t.Helper()
	if got := r.Header.Get("ETag"); got != want {
		r.t.Fatalf("ETag %q, want %q", got, want)
	}
	return r
}

func TestRecordETags(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	var r model.MedicalRecord
	h.post(mrPath, mrBody(nil), a.Access).expect(http.StatusCreated).expectETag(`"1"`).decode(&r)
	path := mrPath + "/" + r.ID
	h.get(path, a.Access).expect(http.StatusOK).expectETag(`"1"`)

	// A matching tag: the change lands and the version grows.
	h.withIfMatch(http.MethodPatch, path, map[string]any{"diagnosis": "Hay fever"}, a.Access, `"1"`).
		expect(http.StatusOK).expectETag(`"2"`)
	// Without If-Match, as before: whatever version is stored.
	h.patch(path, map[string]any{"treatment": "Rest"}, a.Access).expect(http.StatusOK).expectETag(`"3"`)
	h.withIfMatch(http.MethodPut, path, mrBody(map[string]any{"diagnosis": "Flu"}), a.Access, `"3"`).
		expect(http.StatusOK).expectETag(`"4"`)
	h.get(path, a.Access).expect(http.StatusOK).expectETag(`"4"`)
	// A list with the current tag in it, and *.
	h.withIfMatch(http.MethodPatch, path, map[string]any{"doctor": "Dr. Who"}, a.Access, `"1", W/"4", "4"`).
		expect(http.StatusOK).expectETag(`"5"`)
	h.withIfMatch(http.MethodPatch, path, map[string]any{"doctor": "Dr. No"}, a.Access, `*`).
		expect(http.StatusOK).expectETag(`"6"`)

	// Stale tags, a weak one, a foreign one: 412, and nothing changes.
	before := mrMustStored(h, r.ID)
	for _, tag := range []string{`"5"`, `W/"6"`, `"r6"`, `"1", "2"`} {
		h.withIfMatch(http.MethodPatch, path, map[string]any{"diagnosis": "Lost"}, a.Access, tag).
			expectError(http.StatusPreconditionFailed, model.MsgRecordChanged)
		h.withIfMatch(http.MethodPut, path, mrBody(map[string]any{"diagnosis": "Lost"}), a.Access, tag).
			expectError(http.StatusPreconditionFailed, model.MsgRecordChanged)
		h.withIfMatch(http.MethodDelete, path, nil, a.Access, tag).
			expectError(http.StatusPreconditionFailed, model.MsgRecordChanged)
	}
	if got := h.withIfMatch(http.MethodPatch, path, map[string]any{"diagnosis": "Lost"}, a.Access, `"5"`); string(got.Body) != `{"message":"The record was changed by someone else; reload it."}` {
		t.Errorf("412 body %s", got.Body)
	}
	mrSame(t, "record after stale writes", mrMustStored(h, r.ID), before)

	// Malformed: 400, nothing changes.
	for _, tag := range []string{`6`, `"6`, `W/6`, `,`, `"a"b"`} {
		h.withIfMatch(http.MethodPatch, path, map[string]any{"diagnosis": "Lost"}, a.Access, tag).
			expectError(http.StatusBadRequest, model.MsgBadIfMatch)
	}
	mrSame(t, "record after malformed If-Match", mrMustStored(h, r.ID), before)

	// Someone else's record is 404 whatever the tag: If-Match reveals nothing.
	b := h.signup("bob@example.org")
	h.withIfMatch(http.MethodPatch, path, map[string]any{"diagnosis": "x"}, b.Access, `"1"`).expect(http.StatusNotFound)
	h.withIfMatch(http.MethodDelete, path, nil, b.Access, `*`).expect(http.StatusNotFound)

	// DELETE with the current tag.
	h.withIfMatch(http.MethodDelete, path, nil, a.Access, `"6"`).expect(http.StatusNoContent)
	if _, err := mrStored(h, r.ID); err == nil {
		t.Fatal("record still there after DELETE with the current tag")
	}
	h.withIfMatch(http.MethodDelete, path, nil, a.Access, `*`).expect(http.StatusNotFound)
}

func TestUserETags(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("staff@example.org")
	p := h.signup("pat@example.org")
	path := "/api/users/" + p.ID
	h.get(path, staff.Access).expect(http.StatusOK).expectETag(`"1"`)
	h.get("/api/users/me", p.Access).expect(http.StatusOK).expectETag(`"1"`)

	h.withIfMatch(http.MethodPatch, path, map[string]any{"first_name": "Pat"}, staff.Access, `"1"`).
		expect(http.StatusOK).expectETag(`"2"`)
	h.withIfMatch(http.MethodPatch, "/api/users/me", map[string]any{"last_name": "Stale"}, p.Access, `"1"`).
		expectError(http.StatusPreconditionFailed, model.MsgUserChanged)
	h.withIfMatch(http.MethodPatch, path, map[string]any{"last_name": "Stale"}, staff.Access, `"1"`).
		expectError(http.StatusPreconditionFailed, model.MsgUserChanged)
	h.get("/api/users/me", p.Access).expect(http.StatusOK).expectETag(`"2"`)
	h.withIfMatch(http.MethodPatch, "/api/users/me", map[string]any{"last_name": "Fresh"}, p.Access, `"2"`).
		expect(http.StatusOK).expectETag(`"3"`)
	h.patch(path, map[string]any{"is_staff": true}, staff.Access).expect(http.StatusOK).expectETag(`"4"`)
	u, err := h.store.Read().UserByID(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.FirstName != "Pat" || u.LastName != "Fresh" || !u.IsStaff || u.Version != 4 {
		t.Fatalf("user %+v", u.User)
	}

	var created model.User
	h.post("/api/users", map[string]any{"email": "new@example.org", "first_name": "New", "last_name": "User",
		"password": "a-long-unguessable-passphrase"}, staff.Access).expect(http.StatusCreated).expectETag(`"1"`).decode(&created)
	h.withIfMatch(http.MethodPatch, "/api/users/"+created.ID, map[string]any{"first_name": "x"}, staff.Access, `bad`).
		expectError(http.StatusBadRequest, model.MsgBadIfMatch)
}

// Two PATCHes sent at once with the same If-Match: one lands, the other is
// told the record changed. The check runs on the row the transaction has
// locked (FOR UPDATE on PostgreSQL, whose READ COMMITTED would otherwise let
// both read the same version).
func TestConcurrentPatchesWithTheSameIfMatch(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("staff@example.org")
	patient := h.signup("pat@example.org")
	r := mrCreate(h, staff.Access, map[string]any{"user_id": patient.ID})
	race := func(path, token, tag string, bodies ...map[string]any) (ok, stale int) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		start := make(chan struct{})
		for _, body := range bodies {
			wg.Go(func() {
				<-start
				res := h.withIfMatch(http.MethodPatch, path, body, token, tag)
				mu.Lock()
				defer mu.Unlock()
				switch res.Status {
				case http.StatusOK:
					ok++
				case http.StatusPreconditionFailed:
					stale++
				default:
					t.Errorf("status %d: %s", res.Status, res.Body)
				}
			})
		}
		close(start)
		wg.Wait()
		return ok, stale
	}
	const rounds = 10
	for i := range rounds {
		tag := etagOf(i + 1)
		ok, stale := race(mrPath+"/"+r.ID, staff.Access, tag, map[string]any{"diagnosis": "A"}, map[string]any{"treatment": "B"})
		if ok != 1 || stale != 1 {
			t.Fatalf("round %d: %d × 200 and %d × 412, want one of each", i, ok, stale)
		}
		if got := mrMustStored(h, r.ID); got.Version != int64(i+2) {
			t.Fatalf("round %d: version %d, want %d", i, got.Version, i+2)
		}
	}
	for i := range rounds {
		ok, stale := race("/api/users/"+patient.ID, staff.Access, etagOf(i+1), map[string]any{"first_name": "A"}, map[string]any{"last_name": "B"})
		if ok != 1 || stale != 1 {
			t.Fatalf("user round %d: %d × 200 and %d × 412, want one of each", i, ok, stale)
		}
	}
}

// etagOf is the ETag of version v.
func etagOf(v int) string { return `"` + strconv.Itoa(v) + `"` }
