package chain

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestAppendTimeIsAppendFormat: the encoding's time is AppendFormat's,
// byte for byte, across the years, offsets and precisions a store may
// hand it, and years outside four digits.
func TestAppendTimeIsAppendFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	zones := []*time.Location{time.UTC, time.FixedZone("plus", 5*3600+1800), time.FixedZone("minus", -11*3600)}
	times := []time.Time{
		{},
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 1, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 6, 1, 12, 0, 0, 500, time.UTC),
		time.Date(2024, 2, 29, 1, 2, 3, 4_000, zones[1]),
	}
	for range 20000 {
		sec := r.Int64N(400*365*24*3600) + time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
		times = append(times, time.Unix(sec, r.Int64N(1e9)).In(zones[r.IntN(len(zones))]))
	}
	for _, tm := range times {
		want := tm.UTC().Truncate(time.Microsecond).AppendFormat(nil, timeLayout)
		if got := appendTime(nil, tm); string(got) != string(want) {
			t.Fatalf("appendTime(%v) = %s, want %s", tm, got, want)
		}
	}
}
