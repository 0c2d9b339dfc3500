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
