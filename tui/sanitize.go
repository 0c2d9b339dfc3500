package tui

import (
	"strings"
	"unicode/utf8"
)

// Text that came from the server (names, emails, record fields, audit
// fields, error messages) is untrusted: a record must not be able to move
// the cursor, clear or retitle the viewer's terminal, or hide text. Every
// such string goes through clean or cleanBlock before it is rendered.
//
// Control characters are not dropped but shown inert as their Unicode
// "control picture" (ESC → ␛, BEL → ␇, DEL → ␡), so a hostile
// "\x1b[2J" appears as the harmless text "␛[2J" and the reader can see that
// something odd was stored. C1 controls (including the single-byte CSI and
// OSC introducers U+009B and U+009D), invalid UTF-8 and the bidirectional
// overrides that can reorder what is displayed become U+FFFD.

// clean makes s safe to print on one line: every control character is made
// visible and inert, and line breaks and tabs become single spaces.
func clean(s string) string { return sanitize(s, false) }

// CleanLine is clean for the other front ends that print the server's
// words to a terminal (sshapp's commands).
func CleanLine(s string) string { return cleanMsg(s) }

// cleanBlock is clean for multi-line text shown in the detail view: it keeps
// line breaks (normalising \r\n and \r to \n) and expands tabs.
func cleanBlock(s string) string { return sanitize(s, true) }

// sanitize does the work of clean and cleanBlock. It returns s itself, with
// no allocation, in the common case where nothing needs changing.
func sanitize(s string, multiline bool) string {
	if safe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			b.WriteRune(utf8.RuneError)
			i++
			continue
		}
		i += size
		switch {
		case r == '\r':
			if multiline {
				if i < len(s) && s[i] == '\n' {
					i++ // \r\n → \n
				}
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
				if i < len(s) && s[i] == '\n' {
					i++
				}
			}
		case r == '\n':
			if multiline {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		case r == '\t':
			if multiline {
				b.WriteString("    ")
			} else {
				b.WriteByte(' ')
			}
		case r < 0x20:
			b.WriteRune(0x2400 + r) // ␀ … ␟, e.g. ESC → ␛
		case r == 0x7f:
			b.WriteRune('␡')
		case isUnsafeRune(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// safe reports whether s can be printed as it is.
func safe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return false
		}
		if c >= 0x80 {
			// Slow path for non-ASCII text.
			for _, r := range s[i:] {
				if r == utf8.RuneError || r < 0x20 || r == 0x7f || isUnsafeRune(r) {
					return false
				}
			}
			return true
		}
	}
	return true
}

// isUnsafeRune reports C1 controls and the invisible formatting characters
// that change how the surrounding text is laid out.
func isUnsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f: // C1 controls, e.g. U+009B CSI
		return true
	case r >= 0x202a && r <= 0x202e: // bidi embeddings and overrides
		return true
	case r >= 0x2066 && r <= 0x2069: // bidi isolates
		return true
	case r == 0x200e || r == 0x200f || r == 0x061c: // direction marks
		return true
	case r == 0xfeff: // zero-width no-break space / BOM
		return true
	}
	return false
}

// cleanMsg is a message from the server, trimmed and made safe.
func cleanMsg(s string) string { return clean(strings.TrimSpace(s)) }
