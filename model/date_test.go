package model_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/model"
)

// parseDateWithTime is ParseDate's specification: time.Parse with
// DateLayout, for ten-character inputs only. outOfRange says the input is
// digits in the YYYY-MM-DD shape and time.Parse found its month or day out
// of range: a date that does not exist rather than a wrong format.
func parseDateWithTime(s string) (t time.Time, ok, outOfRange bool) {
	t, err := time.Parse(model.DateLayout, s)
	ok = err == nil && len(s) == len(model.DateLayout)
	outOfRange = err != nil && dateShape.MatchString(s) && strings.HasSuffix(err.Error(), "out of range")
	return t, ok, outOfRange
}

var dateShape = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

func checkParseDate(t *testing.T, s string) {
	t.Helper()
	want, wantOK, outOfRange := parseDateWithTime(s)
	got, err := model.ParseDate(s)
	if (err == nil) != wantOK {
		t.Fatalf("ParseDate(%q) error %v, time.Parse accepts: %v", s, err, wantOK)
	}
	if err != nil {
		// A date that is well formed but does not exist is told apart
		// from a format error, exactly when time.Parse says "out of range".
		var de *model.DateError
		if !errors.As(err, &de) || (de.Reason != "") != outOfRange {
			t.Fatalf("ParseDate(%q) error %#v, time.Parse says out of range: %v", s, err, outOfRange)
		}
	}
	if wantOK && (got.Year() != want.Year() || got.Month() != want.Month() || got.Day() != want.Day() || got.String() != s) {
		t.Fatalf("ParseDate(%q) = %v, time.Parse = %v", s, got, want)
	}
}

func TestParseDateAgreesWithTime(t *testing.T) {
	for _, year := range []int{0, 1, 1900, 1999, 2000, 2023, 2024, 2100, 2400, 9999} {
		for month := 0; month <= 13; month++ {
			for day := 0; day <= 32; day++ {
				checkParseDate(t, fmt.Sprintf("%04d-%02d-%02d", year, month, day))
			}
		}
	}
	for _, s := range []string{"", "2026-3-1", "2026-03-1", "2026-03-010", "+026-03-10", "-026-03-10", "2026/03/10",
		"2026-03-1a", "20a6-03-10", "2026-0x-10", " 2026-03-1", "2026-03-10 ", "２０２６-03-10", "2026-03-10T00:00:00Z"} {
		checkParseDate(t, s)
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2023-02-29", "0000-01-01", "9999-12-31", "2026-13-01", "abcd-ef-gh"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkParseDate(t, s) })
}

func BenchmarkParseDate(b *testing.B) {
	for b.Loop() {
		if _, err := model.ParseDate("2026-11-25"); err != nil {
			b.Fatal(err)
		}
	}
}
