package chain

import (
	"testing"
	"time"
)

// BenchmarkAppendTime: the encoding's time, hand-written against
// AppendFormat with the layout.
func BenchmarkAppendTime(b *testing.B) {
	tm := time.Date(2026, 12, 1, 23, 59, 59, 123_456_789, time.UTC)
	buf := make([]byte, 0, 64)
	b.Run("appendTime", func(b *testing.B) {
		for b.Loop() {
			buf = appendTime(buf[:0], tm)
		}
	})
	b.Run("AppendFormat", func(b *testing.B) {
		for b.Loop() {
			buf = tm.UTC().Truncate(time.Microsecond).AppendFormat(buf[:0], timeLayout)
		}
	})
}
