package tui

import (
	"strings"
	"testing"

	"github.com/anavara/anavara/model"
)

// What the audit screen says a list served comes from the server: it is
// described in words, and nothing in it reaches the terminal raw.
func TestListedRecords(t *testing.T) {
	ids := []string{"6f1c2a4e-0b7d-4e1a-9c3f-2d5e8a7b9c01", "7a2d3b5f-1c8e-4f2b-8d4a-3e6f9b8c0d12"}
	for _, tc := range []struct {
		name            string
		e               model.AuditEvent
		served, filters string
		ok              bool
	}{
		{"a patient's list", model.AuditEvent{Action: model.ActionRecordList, RecordIDs: ids[:1],
			Detail: []byte(`{"user_id":"u-1","page":1,"page_size":20,"count":1}`)},
			"1 record of 1 matching (page 1, 20 a page)", "account u-1", true},
		{"a search with every filter", model.AuditEvent{Action: model.ActionRecordSearch, RecordIDs: ids,
			Detail: []byte(`{"search":{"length":11,"words":2},"doctor":{"length":1,"words":1},"date_of_treatment_after":"2026-01-01","date_of_treatment_before":"2026-12-31","ordering":"-doctor","page":3,"page_size":2,"count":9}`)},
			"2 records of 9 matching (page 3, 2 a page)",
			"search of 2 words, 11 characters; doctor of 1 word, 1 character; treated from 2026-01-01; treated until 2026-12-31; ordered by -doctor", true},
		{"a page by cursor", model.AuditEvent{Action: model.ActionRecordList, RecordIDs: ids,
			Detail: []byte(`{"paginate":"cursor","page_size":20,"count":45}`)},
			"2 records of 45 matching (a page by cursor, 20 a page)", "none", true},
		{"no filters, nothing served", model.AuditEvent{Action: model.ActionRecordList, Detail: []byte(`{"page":1,"page_size":20,"count":0}`)},
			"0 records of 0 matching (page 1, 20 a page)", "none", true},
		{"hostile strings", model.AuditEvent{Action: model.ActionRecordList, RecordIDs: ids[:1],
			Detail: []byte(`{"user_id":"\u001b]0;pwned\u0007","ordering":"\u001b[2Jx","page":1,"page_size":20,"count":1}`)},
			"1 record of 1 matching (page 1, 20 a page)", "account ␛]0;pwned␇; ordered by ␛[2Jx", true},
		{"a detail this build cannot read", model.AuditEvent{Action: model.ActionRecordList, RecordIDs: ids, Detail: []byte(`[1,2]`)},
			"2 records", "—", true},
		{"not a list", model.AuditEvent{Action: model.ActionRecordRead}, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			served, filters, ok := listedRecords(tc.e)
			if served != tc.served || filters != tc.filters || ok != tc.ok {
				t.Fatalf("listedRecords = %q, %q, %v\nwant            %q, %q, %v", served, filters, ok, tc.served, tc.filters, tc.ok)
			}
			if strings.ContainsAny(served+filters, "\x1b\x07") {
				t.Fatalf("a control character survived: %q %q", served, filters)
			}
		})
	}
}
