package db

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/anavara/anavara/model"
)

func TestSearchWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"asthma", []string{"asthma"}},
		{"Élodie MÜLLER", []string{"elodie", "muller"}},
		{"Ærøskøbing", []string{"ærøskøbing"}}, // letters of their own, not accented ones
		{"STRASSE straße", []string{"strasse"}},
		{"İstanbul", []string{"istanbul"}},
		{"Ⅻ ½", []string{"ⅻ", "½"}}, // numbers other than digits are word characters
		{"ΆΛΦΑ άλφα", []string{"αλφα"}},
		{"Zoë O'Brien", []string{"zoe", "o", "brien"}},
		{"100% a_b back\\slash \"quoted\" star* -minus", []string{"100", "a", "b", "back", "slash", "quoted", "star", "minus"}},
		{"%_\\\"*", nil},
		{"  spaced\ttabs\nlines  ", []string{"spaced", "tabs", "lines"}},
		{"Dr. Dr. DR.", []string{"dr"}},
		{"OR AND NOT NEAR", []string{"or", "and", "not", "near"}},
		{"ᦰᦱ", nil}, // New Tai Lue vowel signs: separators to SQLite's unicode61
		{"🩺 x", []string{"x"}},
	} {
		if got := SearchWords(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("SearchWords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSearchWordsCutsLongWords(t *testing.T) {
	long := strings.Repeat("é", MaxSearchWordBytes) // two bytes each
	got := SearchWords(long + " ok")
	if len(got) != 2 || len(got[0]) > MaxSearchWordBytes || got[0] != strings.Repeat("e", MaxSearchWordBytes) || got[1] != "ok" {
		t.Errorf("SearchWords of a long word: %d words, first %d bytes", len(got), len(got[0]))
	}
	long = strings.Repeat("ж", MaxSearchWordBytes) // two bytes each, kept
	got = SearchWords(long)
	if len(got) != 1 || got[0] != strings.Repeat("ж", MaxSearchWordBytes/2) {
		t.Errorf("SearchWords cut %q", got)
	}
}

func TestRecordSearchWords(t *testing.T) {
	r := model.MedicalRecord{PatientName: "Élodie Martin", Doctor: "Dr. Martin", Diagnosis: "Migraine; aura", Treatment: "rest"}
	if got, want := RecordSearchWords(r), "elodie martin dr migraine aura"; got != want {
		t.Errorf("RecordSearchWords = %q, want %q", got, want)
	}
}

func TestQueryWordsCountsTheFirstSixteen(t *testing.T) {
	var many []string
	for i := range MaxQueryWords + 5 {
		many = append(many, fmt.Sprintf("w%d", i), fmt.Sprintf("W%d", i))
	}
	got := QueryWords(strings.Join(many, " "))
	if len(got) != MaxQueryWords || got[0] != "w0" || got[MaxQueryWords-1] != fmt.Sprintf("w%d", MaxQueryWords-1) {
		t.Errorf("QueryWords kept %q", got)
	}
}
