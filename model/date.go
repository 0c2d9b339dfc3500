package model

import (
	"encoding/json"
	"fmt"
	"time"
)

// DateLayout is the wire and storage format of calendar dates.
const DateLayout = "2006-01-02"

// Date is a calendar date without a time zone, encoded as YYYY-MM-DD.
type Date struct {
	t time.Time // always midnight UTC
}

// NewDate returns the date year-month-day.
func NewDate(year int, month time.Month, day int) Date {
	return Date{t: time.Date(year, month, day, 0, 0, 0, 0, time.UTC)}
}

// DateOf returns the calendar date of t in UTC.
func DateOf(t time.Time) Date {
	y, m, d := t.UTC().Date()
	return NewDate(y, m, d)
}

// ParseDate parses a strict YYYY-MM-DD date.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil || len(s) != len(DateLayout) {
		return Date{}, fmt.Errorf("invalid date %q: want YYYY-MM-DD", s)
	}
	return Date{t: t}, nil
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d.t.IsZero() }

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return d.t.Format(DateLayout) }

// Before reports whether d is strictly before o.
func (d Date) Before(o Date) bool { return d.t.Before(o.t) }

// After reports whether d is strictly after o.
func (d Date) After(o Date) bool { return d.t.After(o.t) }

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date { return Date{t: d.t.AddDate(0, 0, n)} }

// MarshalJSON encodes d as "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(DateLayout)+2)
	b = append(b, '"')
	b = d.t.AppendFormat(b, DateLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON decodes "YYYY-MM-DD".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date must be a string: %w", err)
	}
	p, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// Year returns d's year.
func (d Date) Year() int { return d.t.Year() }

// Month returns d's month.
func (d Date) Month() time.Month { return d.t.Month() }

// Day returns d's day of the month.
func (d Date) Day() int { return d.t.Day() }
