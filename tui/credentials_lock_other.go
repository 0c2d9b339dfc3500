//go:build !unix

package tui

import "context"

// lockFile cannot lock across processes here: FileStore's own mutex still
// orders this process's writes, and the server's refresh grace window
// covers two processes refreshing at once.
func lockFile(context.Context, string) (unlock func(), err error) {
	return func() {}, nil
}
