package server_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// Two concurrent PATCHes of different fields must both be kept. The record
// and user updates used to read the row outside the transaction that
// writes every column back, so the later writer restored the field the
// earlier one had changed (issue 12; on SQLite too, not only PostgreSQL).
func TestConcurrentPatchesOfDifferentFieldsKeepBoth(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("staff@example.org")
	patient := h.signup("pat@example.org")
	r := mrCreate(h, staff.Access, map[string]any{"user_id": patient.ID})

	patchBoth := func(path string, a, b map[string]any, token string) {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, body := range []map[string]any{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				h.patch(path, body, token).expect(http.StatusOK)
			}()
		}
		close(start)
		wg.Wait()
	}
	const rounds = 20
	for i := range rounds {
		diagnosis, treatment := fmt.Sprintf("Diagnosis %d", i), fmt.Sprintf("Treatment %d", i)
		patchBoth(mrPath+"/"+r.ID, map[string]any{"diagnosis": diagnosis}, map[string]any{"treatment": treatment}, staff.Access)
		got := mrMustStored(h, r.ID)
		if got.Diagnosis != diagnosis || got.Treatment != treatment {
			t.Fatalf("round %d: record has diagnosis %q and treatment %q, want %q and %q: a change was lost",
				i, got.Diagnosis, got.Treatment, diagnosis, treatment)
		}
	}
	for i := range rounds {
		first, last := fmt.Sprintf("First%c", 'a'+i), fmt.Sprintf("Last%c", 'a'+i)
		// Staff on another's account, and the patient on their own.
		for _, via := range []struct{ path, token string }{
			{"/api/users/" + patient.ID, staff.Access},
			{"/api/users/me", patient.Access},
		} {
			patchBoth(via.path, map[string]any{"first_name": first}, map[string]any{"last_name": last}, via.token)
			u, err := h.store.Read().UserByID(context.Background(), patient.ID)
			if err != nil {
				t.Fatal(err)
			}
			if u.FirstName != first || u.LastName != last {
				t.Fatalf("round %d via %s: user is %q %q, want %q %q: a change was lost", i, via.path, u.FirstName, u.LastName, first, last)
			}
		}
	}
}
