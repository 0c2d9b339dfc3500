package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/export"
)

func TestNeutralise(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"Asthma", "Asthma"},
		{"=SUM(A1:A2)", "'=SUM(A1:A2)"},
		{"+1 tablet", "'+1 tablet"},
		{"-2 units", "'-2 units"},
		{"@cmd", "'@cmd"},
		{"\tindented", "'\tindented"},
		{"\rreturn", "'\rreturn"},
		{"a=b", "a=b"},
		{" =padded", " =padded"},
		{"'quoted", "'quoted"},
	} {
		if got := export.Neutralise(tc.in); got != tc.want {
			t.Errorf("Neutralise(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A person's CSV has a header row and one row per record; read back by a
// CSV reader every cell is the record's, commas, quotes and line breaks
// kept, with a quote before any cell a spreadsheet would run.
func TestPersonCSV(t *testing.T) {
	f := seed(t)
	var buf bytes.Buffer
	f.snapshot(t, func(snap db.Snapshot) error {
		n, err := export.PersonCSV(context.Background(), snap, f.ann.ID, &buf)
		if n != int64(len(f.annRecords)) {
			t.Errorf("%d rows, want %d", n, len(f.annRecords))
		}
		return err
	})
	rows, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	must(t, err)
	if !slices.Equal(rows[0], export.CSVHeader) {
		t.Fatalf("header %v", rows[0])
	}
	if len(rows) != len(f.annRecords)+1 {
		t.Fatalf("%d rows, want %d and the header", len(rows)-1, len(f.annRecords))
	}
	for i, r := range f.annRecords {
		row := rows[i+1]
		want := []string{r.ID, r.UserID, r.PatientName, r.DateOfBirth.String(), r.DateOfTreatment.String(),
			r.Doctor, r.Diagnosis, r.Treatment}
		for j, w := range want {
			// A CSV reader reads a quoted CRLF as LF; the raw text keeps it
			// (checked below).
			if w = strings.ReplaceAll(export.Neutralise(w), "\r\n", "\n"); row[j] != w {
				t.Errorf("record %d column %s: %q, want %q", i, export.CSVHeader[j], row[j], w)
			}
		}
		if !parseTime(t, row[8]).Equal(r.Created) || !parseTime(t, row[9]).Equal(r.Updated) {
			t.Errorf("record %d times %q %q", i, row[8], row[9])
		}
	}
	text := buf.String()
	for _, cell := range []string{`"'=HYPERLINK(""http://evil"",""x"")"`, "'+1 tablet daily", "'-2 units", "'@SUM(A1:A2)", ",'\tindented,",
		`"Fracture, left ""wrist"""`, "\"Line one\nline two\r\nline three\""} {
		if !strings.Contains(text, cell) {
			t.Errorf("the CSV lacks the cell %q:\n%s", cell, text)
		}
	}
}
