//go:build !unix

package sqlite

// diskFull cannot tell on this system; writes that fail for want of room
// still report it.
func diskFull(string) (bool, error) { return false, nil }

// checkWritable leaves it to SQLite to find out on this system.
func checkWritable(string, string) error { return nil }
