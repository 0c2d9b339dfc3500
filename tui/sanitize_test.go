package tui

import (
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, line, block string }{
		{"Ann Smith", "Ann Smith", "Ann Smith"},
		{"Zoë Łukasz 李", "Zoë Łukasz 李", "Zoë Łukasz 李"},
		{"\x1b[31mRed", "␛[31mRed", "␛[31mRed"},
		{"\x1b[2J\x1b]0;pwned\x07", "␛[2J␛]0;pwned␇", "␛[2J␛]0;pwned␇"},
		{"a\nb\r\nc\rd", "a b c d", "a\nb\nc\nd"},
		{"tab\there", "tab here", "tab    here"},
		{"\x00nul\x7fdel", "␀nul␡del", "␀nul␡del"},
		{"c1 \u009b2J csi \u009d osc", "c1 \uFFFD2J csi \uFFFD osc", "c1 \uFFFD2J csi \uFFFD osc"},
		{"bidi \u202eevil\u202c", "bidi \uFFFDevil\uFFFD", "bidi \uFFFDevil\uFFFD"},
		{"bad \xff utf8", "bad \uFFFD utf8", "bad \uFFFD utf8"},
	} {
		if got := clean(tc.in); got != tc.line {
			t.Errorf("clean(%q) = %q, want %q", tc.in, got, tc.line)
		}
		if got := cleanBlock(tc.in); got != tc.block {
			t.Errorf("cleanBlock(%q) = %q, want %q", tc.in, got, tc.block)
		}
	}
}

func TestCleanLeavesNoControls(t *testing.T) {
	var b strings.Builder
	for r := rune(0); r < 0x100; r++ {
		b.WriteRune(r)
	}
	for _, out := range []string{clean(b.String()), cleanBlock(b.String())} {
		for _, r := range out {
			if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) {
				t.Fatalf("control %U survived in %q", r, out)
			}
		}
	}
}

func TestCleanDoesNotAllocateForSafeText(t *testing.T) {
	s := "Ann Smith, Dr. Grey — influenza"
	if n := testing.AllocsPerRun(100, func() { _ = clean(s) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
