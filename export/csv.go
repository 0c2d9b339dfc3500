package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"time"

	"github.com/anavara/anavara/model"
)

// MediaTypeCSV is the media type of a person's records as CSV.
const MediaTypeCSV = "text/csv; charset=utf-8"

// CSVHeader is the header row of the records CSV: a record's fields as
// the API names them.
var CSVHeader = []string{"id", "user_id", "patient_name", "date_of_birth", "date_of_treatment",
	"doctor", "diagnosis", "treatment", "created", "updated"}

// CSV writes medical records as CSV with a header row. encoding/csv
// quotes a cell holding a comma, a quote or a line break; Neutralise
// keeps a spreadsheet from running a cell as a formula.
type CSV struct {
	w   *csv.Writer
	row []string
	n   int64
}

// NewCSV writes the header row to w and returns the writer of the rows.
func NewCSV(w io.Writer) (*CSV, error) {
	c := &CSV{w: csv.NewWriter(w), row: make([]string, len(CSVHeader))}
	if err := c.w.Write(CSVHeader); err != nil {
		return nil, fmt.Errorf("csv: %w", err)
	}
	return c, nil
}

// Write appends r as one row.
func (c *CSV) Write(r model.MedicalRecord) error {
	for i, v := range []string{r.ID, r.UserID, r.PatientName, date(r.DateOfBirth), date(r.DateOfTreatment),
		r.Doctor, r.Diagnosis, r.Treatment, r.Created.UTC().Format(time.RFC3339Nano), r.Updated.UTC().Format(time.RFC3339Nano)} {
		c.row[i] = Neutralise(v)
	}
	if err := c.w.Write(c.row); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	c.n++
	return nil
}

// Count is how many records Write wrote.
func (c *CSV) Count() int64 { return c.n }

// Flush writes out what encoding/csv buffers.
func (c *CSV) Flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	return nil
}

// Neutralise prefixes a cell that a spreadsheet would read as a formula
// (its first character one of = + - @, tab or carriage return) with a
// single quote, as OWASP's guidance on CSV injection advises
// (https://owasp.org/www-community/attacks/CSV_Injection). The quote
// shows; a reader who needs the text exactly strips it.
func Neutralise(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + cell
	}
	return cell
}

// date is d as YYYY-MM-DD, or empty when unset.
func date(d model.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}
