package sqlite

import (
	"strings"
	"testing"
)

// termsOf builds its document in one buffer; it must hold what joining
// each id's recordTerm, once, would: the terms that "who saw record X"
// looks up with recordTerm.
func TestTermsOfIsEachRecordTermOnce(t *testing.T) {
	a, b := "0f8fad5b-d9cb-469f-a165-70867728950e", "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	tests := []struct {
		name string
		ids  []string
		want string
	}{
		{"none", nil, ""},
		{"one", []string{a}, recordTerm(a)},
		{"two", []string{a, b}, recordTerm(a) + " " + recordTerm(b)},
		{"a patient's records, one subject", []string{a, a, a}, recordTerm(a)},
		{"repeats apart", []string{a, b, a, b}, recordTerm(a) + " " + recordTerm(b)},
		{"upper case is the same term", []string{a, strings.ToUpper(a)}, recordTerm(a)},
		{"a term that starts another is not it", []string{"abc", "ab", "abc"}, "abc ab"},
		{"beyond ASCII", []string{"ÄB-Ç", "äb-ç"}, "äbç"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := termsOf(tt.ids); got != tt.want {
				t.Fatalf("termsOf(%q) = %q, want %q", tt.ids, got, tt.want)
			}
		})
	}
}

// packIDs stores an id only in the form the trail's readers give back.
func TestPackIDsTakesLowerCaseUUIDsOnly(t *testing.T) {
	good := "0f8fad5b-d9cb-469f-a165-70867728950e"
	b, err := packIDs(nil, []string{good, good})
	if err != nil || len(b) != 32 {
		t.Fatalf("packIDs(%q twice) = %d bytes, %v", good, len(b), err)
	}
	if got := unpackIDs(b); len(got) != 2 || got[0] != good || got[1] != good {
		t.Fatalf("unpacked %q", got)
	}
	for _, bad := range []string{
		strings.ToUpper(good),
		"0F8fad5b-d9cb-469f-a165-70867728950e",
		"0f8fad5bd9cb469fa16570867728950e",
		"{0f8fad5b-d9cb-469f-a165-70867728950e}",
		"urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
		"0f8fad5b-d9cb-469f-a165-70867728950",
		"",
	} {
		if _, err := packIDs(nil, []string{good, bad}); err == nil {
			t.Errorf("packIDs took %q", bad)
		}
	}
}
