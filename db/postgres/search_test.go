package postgres

import "testing"

// searchQuery asks for a word of up to lexemeRunes characters as a
// lexeme and for a longer one as a prefix, quoting both.
func TestSearchQuery(t *testing.T) {
	for _, tc := range []struct {
		words []string
		runes int
		want  string
	}{
		{[]string{"asthma"}, searchPrefixRunes, `'asthma'`},
		{[]string{"okafor", "asthma"}, searchPrefixRunes, `'okafor' & 'asthma'`},
		{[]string{"bronchit", "bronchiti"}, searchPrefixRunes, `'bronchit' & 'bronchiti':*`},
		{[]string{"éééééééé", "ééééééééé"}, searchPrefixRunes, `'éééééééé' & 'ééééééééé':*`},
		{[]string{"dr", "xylophone"}, searchPrefixRunes, `'dr' & 'xylophone':*`},
		{[]string{"dr", "kim"}, 0, `'dr':* & 'kim':*`},
		{[]string{`o'b\`}, searchPrefixRunes, `'o''b\\'`},
	} {
		if got := searchQuery(tc.words, tc.runes); got != tc.want {
			t.Errorf("searchQuery(%q, %d) = %s, want %s", tc.words, tc.runes, got, tc.want)
		}
	}
}

// A term whose one whole word the counts gave is asked for as that word;
// two or more distinct whole words of three letters or more as their
// pairs (byte order, the last with the one before when odd), beside the
// other terms.
func TestPairedQuery(t *testing.T) {
	for _, tc := range []struct {
		name   string
		terms  []searchTerm
		query  string
		paired string
	}{
		{"no whole word", []searchTerm{{word: "ok"}, {word: "asthma"}}, `'ok' & 'asthma'`, ""},
		{"one whole word", []searchTerm{{word: "ok", whole: "okafor"}, {word: "bronchiti"}}, `'okafor' & 'bronchiti':*`, ""},
		{"two", []searchTerm{{word: "okafor", whole: "okafor"}, {word: "asth", whole: "asthma"}},
			`'okafor' & 'asthma'`, `'asthma okafor'`},
		{"two and a prefix", []searchTerm{{word: "a"}, {word: "zed", whole: "zed"}, {word: "élan", whole: "élan"}},
			`'a' & 'zed' & 'élan'`, `'zed élan' & 'a'`},
		{"three", []searchTerm{{word: "amara", whole: "amara"}, {word: "okafor", whole: "okafor"}, {word: "asthma", whole: "asthma"}},
			`'amara' & 'okafor' & 'asthma'`, `'amara okafor' & 'asthma okafor'`},
		{"four", []searchTerm{{word: "d", whole: "ddd"}, {word: "c", whole: "ccc"}, {word: "b", whole: "bbb"}, {word: "a", whole: "aaa"}},
			`'ddd' & 'ccc' & 'bbb' & 'aaa'`, `'ccc ddd' & 'aaa bbb'`},
		{"one whole word twice", []searchTerm{{word: "okaf", whole: "okafor"}, {word: "okafor", whole: "okafor"}},
			`'okafor' & 'okafor'`, ""},
		{"quoted", []searchTerm{{word: "o", whole: `o'b\`}, {word: "x", whole: "xyz"}}, `'o''b\\' & 'xyz'`, `'o''b\\ xyz'`},
		{"a short word beside", []searchTerm{{word: "d", whole: "dr"}, {word: "okafor", whole: "okafor"}, {word: "asthma", whole: "asthma"}},
			`'dr' & 'okafor' & 'asthma'`, `'asthma okafor' & 'dr'`},
		{"short words alone", []searchTerm{{word: "d", whole: "dr"}, {word: "okafor", whole: "okafor"}}, `'dr' & 'okafor'`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := termsQuery(tc.terms); got != tc.query {
				t.Errorf("termsQuery = %s, want %s", got, tc.query)
			}
			got, ok := pairedQuery(tc.terms)
			if got != tc.paired || ok != (tc.paired != "") {
				t.Errorf("pairedQuery = %s, %v; want %s", got, ok, tc.paired)
			}
		})
	}
}
