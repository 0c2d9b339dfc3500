package db

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/anavara/anavara/model"
)

// A records search (RecordFilter.Search) matches words: every word of the
// query must be the start of a word of the record's patient name, doctor
// or diagnosis. Both sides are cut into words here, in Go, so that every
// engine indexes and matches the very same words: SQLite's FTS4 table and
// PostgreSQL's tsvector index are handed these words and never tokenise
// or fold text of their own that could disagree.

// MaxSearchWordBytes bounds a word's length in bytes. PostgreSQL refuses
// lexemes over 2,047 bytes; a longer word, in a record or in a query, is
// cut (at a character boundary) to its first MaxSearchWordBytes bytes on
// both sides, so a prefix of it still finds it.
const MaxSearchWordBytes = 255

// SearchWords returns the distinct words of s, in the order they first
// appear, folded for matching: case folded (Unicode full case folding,
// so "STRASSE" and "straße" both give "strasse"), then accents removed
// (the nonspacing marks of the canonical decomposition: "Élodie" gives
// "elodie"), then composed again. A word is a run of letters and digits
// (Unicode categories L and N); anything else separates words, so
// punctuation such as % _ \ " * in a query is inert. The few letters that
// SQLite's unicode61 tokenizer counts as separators (isWordRune) separate
// words here too, so that its index holds exactly these words.
func SearchWords(s string) []string {
	folded := foldForSearch(s)
	fields := strings.FieldsFunc(folded, func(r rune) bool { return !isWordRune(r) })
	words := fields[:0]
	seen := make(map[string]struct{}, len(fields))
	for _, w := range fields {
		w = truncateWord(w)
		if _, dup := seen[w]; dup {
			continue
		}
		seen[w] = struct{}{}
		words = append(words, w)
	}
	return words
}

// MaxQueryWords is how many words of a search count: the first
// MaxQueryWords distinct ones, on every engine. SQLite's FTS4 refuses a
// query of some thousands of words (its expression tree is at most 12
// deep), and each word costs a pass over its part of the index.
const MaxQueryWords = 16

// QueryWords are the words a search matches: its first MaxQueryWords
// distinct SearchWords.
func QueryWords(s string) []string {
	words := SearchWords(s)
	return words[:min(len(words), MaxQueryWords)]
}

// RecordSearchWords is what the records search index holds for r: the
// SearchWords of its patient name, doctor and diagnosis, joined by single
// spaces.
func RecordSearchWords(r model.MedicalRecord) string {
	return strings.Join(SearchWords(r.PatientName+" "+r.Doctor+" "+r.Diagnosis), " ")
}

// foldForSearch case-folds s and strips its accents. Folding comes first
// because it can itself produce marks ("İ" folds to "i" and a combining
// dot), which the decomposition then removes.
func foldForSearch(s string) string {
	decomposed := norm.NFD.String(cases.Fold().String(s))
	var b strings.Builder
	b.Grow(len(decomposed))
	for _, r := range decomposed {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return norm.NFC.String(b.String())
}

// isWordRune reports whether r belongs to a word: a letter or digit,
// except for the New Tai Lue vowel signs and tone marks and two Vedic
// signs, which Unicode now calls letters but SQLite's unicode61 tokenizer
// (Unicode 6.1 data) still calls separators. db/sqlite's
// TestSearchWordsMatchUnicode61 checks every code point against it.
func isWordRune(r rune) bool {
	switch {
	case r >= 0x19B0 && r <= 0x19C0, r == 0x19C8, r == 0x19C9, r == 0x1CF2, r == 0x1CF3:
		return false
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// truncateWord cuts w to at most MaxSearchWordBytes bytes, at a character
// boundary.
func truncateWord(w string) string {
	if len(w) <= MaxSearchWordBytes {
		return w
	}
	cut := MaxSearchWordBytes
	for cut > 0 && !utf8.RuneStart(w[cut]) {
		cut--
	}
	return w[:cut]
}
