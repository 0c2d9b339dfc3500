package tui

import (
	"strings"
	"testing"

	"github.com/anavara/anavara/model"
)

// An access log entry is said in words, to the person ("your") or to
// staff about them ("their"), and nothing the server sent reaches the
// terminal raw.
func TestAccessWords(t *testing.T) {
	rec := "6f1c2a4e-0b7d-4e1a-9c3f-2d5e8a7b9c01"
	other := "7a2d3b5f-1c8e-4f2b-8d4a-3e6f9b8c0d12"
	staff := &model.AccessLogActor{ID: "a1", Name: "Ann Smith", Role: "staff"}
	for _, tc := range []struct {
		name              string
		e                 model.AccessLogEntry
		own               bool
		what, who, record string
		from              string
	}{
		{"a read", model.AccessLogEntry{Action: model.ActionRecordRead, Entity: model.EntityRecord, EntityID: &rec, Actor: staff, Source: "192.0.2.7"},
			true, "viewed record", "Ann Smith (staff)", "6f1c2a4e", "192.0.2.7"},
		{"a list", model.AccessLogEntry{Action: model.ActionRecordList, Entity: model.EntityRecord, RecordIDs: []string{other, rec}, Actor: staff, Source: "SSH from 192.0.2.7"},
			true, "listed records (2 of yours)", "Ann Smith (staff)", "7a2d3b5f", "SSH from 192.0.2.7"},
		{"a search, to staff", model.AccessLogEntry{Action: model.ActionRecordSearch, RecordIDs: []string{rec}, Actor: staff},
			false, "searched records (1 of theirs)", "Ann Smith (staff)", "6f1c2a4e", "—"},
		{"an export", model.AccessLogEntry{Action: model.ActionUserExport, Entity: model.EntityUser, Actor: staff, IP: "192.0.2.8"},
			true, "exported your data", "Ann Smith (staff)", "—", "192.0.2.8"},
		{"the log read, to staff", model.AccessLogEntry{Action: model.ActionAccessLogRead, Entity: model.EntityUser, Actor: staff},
			false, "viewed their access log", "Ann Smith (staff)", "—", "—"},
		{"a population export", model.AccessLogEntry{Action: model.ActionPopulationExport, Entity: model.EntityDatabase, Via: model.ViaCLI, Source: "server command line"},
			true, "exported the whole database", "server", "—", "server command line"},
		{"an account change by a deleted account", model.AccessLogEntry{Action: model.ActionUserUpdate, Entity: model.EntityUser, Actor: &model.AccessLogActor{ID: "0123456789abcdef"}},
			true, "changed your account", "account 01234567", "—", "—"},
		{"hostile strings", model.AccessLogEntry{Action: "new.\x1b[2Jaction", Actor: &model.AccessLogActor{ID: "x", Name: "\x1b]0;pwned\x07Eve", Role: "st\u202eaff"},
			RecordIDs: []string{"\x1b[31mred"}, Source: "\x1b[H"},
			true, "new.␛[2Jaction", "␛]0;pwned␇Eve (st\ufffdaff)", "␛[31mred", "␛[H"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := []string{accessWhat(tc.e, tc.own), accessWho(tc.e.Actor), accessRecord(tc.e), accessFrom(tc.e)}
			want := []string{tc.what, tc.who, tc.record, tc.from}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("got %q, want %q", got, want)
					break
				}
			}
			if strings.ContainsAny(strings.Join(got, ""), "\x1b\x07\u202e") {
				t.Errorf("raw controls in %q", got)
			}
		})
	}
}

// The staff audit log knows the actions of the data-rights endpoints.
func TestDataRightsActionsHaveMeanings(t *testing.T) {
	for _, a := range []string{model.ActionAccessLogRead, model.ActionUserExport, model.ActionPopulationExport} {
		if actionMeaning(a) == "" {
			t.Errorf("%s has no meaning in the audit log's picker", a)
		}
	}
}
