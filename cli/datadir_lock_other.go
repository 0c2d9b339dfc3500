//go:build !unix

package cli

// lockDataDir cannot keep a second serve off the data directory on this
// system; SQLite's locks still keep the database consistent.
func lockDataDir(string) (release func(), err error) { return func() {}, nil }
