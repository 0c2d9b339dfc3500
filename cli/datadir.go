package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// secureDataDir creates the data directory readable by its owner only, and
// tightens an existing one, and the database files in it, that others
// could read: a directory made 0755 by hand, or files an older Anavara
// created 0644, would otherwise expose medical records to every user of
// the machine. Each tightening is logged, so an operator learns of it.
func secureDataDir(logger *slog.Logger, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if err := tighten(logger, dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	db := filepath.Join(dir, "anavara.db")
	for _, path := range []string{db, db + "-wal", db + "-shm"} {
		if err := tighten(logger, path, 0o600); err != nil {
			return fmt.Errorf("database file: %w", err)
		}
	}
	return nil
}

// tighten sets path, if it exists, to mode when it grants more than mode.
func tighten(logger *slog.Logger, path string, mode fs.FileMode) error {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	was := info.Mode().Perm()
	if was&^mode == 0 {
		return nil
	}
	if err := os.Chmod(path, mode); err != nil {
		return err
	}
	logger.Warn("others could read this file; its mode is now owner-only", "path", path,
		"was", fmt.Sprintf("%04o", was), "now", fmt.Sprintf("%04o", mode))
	return nil
}
