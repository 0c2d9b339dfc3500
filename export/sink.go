package export

import "io"

// Sink is where a population export puts its files. Files are written one
// at a time: Create starts one, and Close on what it returned finishes
// it; a file never closed is not part of the export.
type Sink interface {
	Create(name string) (io.WriteCloser, error)
}
