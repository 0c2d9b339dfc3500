package model

import (
	"bufio"
	_ "embed"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// The common-password list is the union of two published lists, one
// password per line:
//
//   - common_passwords_zxcvbn.txt: the 10,000 most common passwords, most
//     common first, from the frequency lists of Dropbox's zxcvbn (MIT).
//     zxcvbn left out names, English words and repeated characters, which
//     its other checks catch, so this list alone misses "jennifer",
//     "basketball" and "aaaaaaaa".
//   - common_passwords_django.txt: the 20,000 most common passwords of Royce
//     Williams's 2017 breach-corpus list, lower-cased and de-duplicated, as
//     Django ships it for its CommonPasswordValidator (BSD-3-Clause). It
//     holds those names and words.
//
// Together: 23,882 distinct passwords.
var (
	//go:embed common_passwords_zxcvbn.txt
	zxcvbnPasswords string
	//go:embed common_passwords_django.txt
	djangoPasswords string
)

// commonPasswords is built on first use; it is read-only afterwards.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 24_000)
	for _, list := range []string{zxcvbnPasswords, djangoPasswords} {
		sc := bufio.NewScanner(strings.NewReader(list))
		for sc.Scan() {
			if w := strings.TrimSpace(sc.Text()); w != "" {
				set[strings.ToLower(w)] = struct{}{}
			}
		}
	}
	return set
})

// Password policy messages.
const (
	MsgPasswordTooShort = "This password is too short. It must contain at least 8 characters."
	MsgPasswordTooLong  = "This password is too long. It must contain at most 1024 characters."
	MsgPasswordNumeric  = "This password is entirely numeric."
	MsgPasswordCommon   = "This password is too common."
)

// PasswordOwner is what a password must not resemble.
type PasswordOwner struct {
	Email     string
	FirstName string
	LastName  string
}

// maxSimilarity is the quick-ratio above which a password counts as too
// similar to one of the owner's attributes.
const maxSimilarity = 0.7

var nonWord = regexp.MustCompile(`\W+`)

// ValidatePassword applies the password policy and returns every message
// that applies, or nil when the password is acceptable.
func ValidatePassword(pw string, owner PasswordOwner) []string {
	var msgs []string
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLength {
		msgs = append(msgs, MsgPasswordTooShort)
	}
	if n > MaxPasswordLength {
		msgs = append(msgs, MsgPasswordTooLong)
	}
	if attr := similarAttribute(pw, owner); attr != "" {
		msgs = append(msgs, "The password is too similar to the "+attr+".")
	}
	if _, common := commonPasswords()[strings.ToLower(strings.TrimSpace(pw))]; common {
		msgs = append(msgs, MsgPasswordCommon)
	}
	if pw != "" && isDigits(pw) {
		msgs = append(msgs, MsgPasswordNumeric)
	}
	return msgs
}

// IsCommonPassword reports whether pw is on the common-password list.
func IsCommonPassword(pw string) bool {
	_, ok := commonPasswords()[strings.ToLower(strings.TrimSpace(pw))]
	return ok
}

func similarAttribute(pw string, owner PasswordOwner) string {
	attrs := []struct{ name, value string }{
		{"email address", owner.Email},
		{"first name", owner.FirstName},
		{"last name", owner.LastName},
	}
	lower := strings.ToLower(pw)
	for _, a := range attrs {
		v := strings.ToLower(strings.TrimSpace(a.value))
		if v == "" {
			continue
		}
		parts := append(nonWord.Split(v, -1), v)
		for _, part := range parts {
			if part == "" || exceedsLengthRatio(lower, part) {
				continue
			}
			if quickRatio(lower, part) >= maxSimilarity {
				return a.name
			}
		}
	}
	return ""
}

// exceedsLengthRatio skips comparisons where the password is so much longer
// than the attribute that no similarity above the limit is possible.
func exceedsLengthRatio(pw, value string) bool {
	pl, vl := utf8.RuneCountInString(pw), utf8.RuneCountInString(value)
	return pl >= 10*vl && float64(vl) < maxSimilarity/2*float64(pl)
}

// quickRatio is an upper bound on the similarity of a and b: twice the size
// of their common multiset of characters over their total length.
func quickRatio(a, b string) float64 {
	counts := map[rune]int{}
	for _, r := range b {
		counts[r]++
	}
	matches := 0
	for _, r := range a {
		if counts[r] > 0 {
			counts[r]--
			matches++
		}
	}
	total := utf8.RuneCountInString(a) + utf8.RuneCountInString(b)
	if total == 0 {
		return 0
	}
	return 2 * float64(matches) / float64(total)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
