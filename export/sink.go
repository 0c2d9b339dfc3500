package export

import "io"

// Sink is where a population export puts its files. Files are written one
// at a time: Create starts one, and Close on what it returned finishes
// it; a file never closed is not part of the export.
type Sink interface {
	Create(name string) (io.WriteCloser, error)
}

// TogetherSink is a Sink that can hold several files open at once (a
// directory can, a zip stream cannot): Population then writes Condition
// and Procedure in one walk of the records instead of two.
type TogetherSink interface {
	Sink
	Together()
}
