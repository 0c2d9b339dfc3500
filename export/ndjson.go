package export

import (
	"bufio"
	"fmt"
	"io"

	json "github.com/goccy/go-json"
)

// MediaTypeNDJSON is the media type of FHIR NDJSON
// (https://hl7.org/fhir/uv/bulkdata/ and https://hl7.org/fhir/R4/nd-json.html).
const MediaTypeNDJSON = "application/fhir+ndjson"

// NDJSON writes one resource a line through a buffer, so that a large
// export costs one buffer of memory and few system calls.
type NDJSON struct {
	w *bufio.Writer
	// enc is goccy/go-json's, as the server's: encoding/json's reflection
	// was a quarter of a population export's time.
	enc *json.Encoder
	n   int64
}

// NewNDJSON writes NDJSON to w; Flush writes what the buffer holds.
func NewNDJSON(w io.Writer) *NDJSON {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	// Resources are data, never HTML: "<" stays as it was typed.
	enc.SetEscapeHTML(false)
	return &NDJSON{w: bw, enc: enc}
}

// Write appends resource as one line (json.Encoder ends each with "\n",
// and escapes any newline inside a string).
func (n *NDJSON) Write(resource any) error {
	if err := n.enc.Encode(resource); err != nil {
		return fmt.Errorf("ndjson: %w", err)
	}
	n.n++
	return nil
}

// Count is how many resources Write wrote.
func (n *NDJSON) Count() int64 { return n.n }

// Flush writes out the buffer.
func (n *NDJSON) Flush() error {
	if err := n.w.Flush(); err != nil {
		return fmt.Errorf("ndjson: %w", err)
	}
	return nil
}
