package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/anavara/anavara/db/sqlite"
)

// restoreFlags configure anavara restore.
type restoreFlags struct {
	dataDir  string
	database string
	from     string
}

func newRestoreCommand(streams Streams) *cobra.Command {
	var f restoreFlags
	cmd := &cobra.Command{
		Use:   "restore --from FILE",
		Short: "Put a backup back in place of the database (with the server stopped)",
		Long: "Replace the database in the data directory with FILE, a copy made by\n" +
			"`anavara backup`. The procedure is: stop `anavara serve`, run restore, start\n" +
			"`anavara serve` again (it applies any newer migrations).\n\n" +
			"restore first checks that FILE is a sound Anavara database (SQLite integrity and\n" +
			"foreign-key checks, Anavara's tables, a schema version this binary can run), and\n" +
			"refuses while any process has the database open. It then copies FILE next to\n" +
			"the database, flushes it to disk and renames it into place, so the data directory\n" +
			"always holds a whole database. The previous database is kept as anavara.db.bak\n" +
			"(with its write-ahead log, if any, as anavara.db.bak-wal).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.from == "" {
				return errors.New("--from names the backup file to restore")
			}
			t, err := sqliteOnly(f.database, f.dataDir, "restore")
			if err != nil {
				return err
			}
			info, err := sqlite.Inspect(cmd.Context(), f.from)
			if err != nil {
				return fmt.Errorf("cannot restore: %w", err)
			}
			target := t.Path
			if err := refuseInUse(target); err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
				return fmt.Errorf("data directory: %w", err)
			}
			tmp, err := copyToTemp(f.from, filepath.Dir(target))
			if err != nil {
				return err
			}
			defer os.Remove(tmp) // a no-op once renamed into place
			// Check what was written, not only what was read.
			if _, err := sqlite.Inspect(cmd.Context(), tmp); err != nil {
				return fmt.Errorf("the copy of %s does not check out: %w", f.from, err)
			}
			kept, err := swapIn(tmp, target)
			if err != nil {
				return err
			}
			fmt.Fprintf(streams.Out, "restored %s (schema version %d) into %s\n", f.from, info.SchemaVersion, target)
			if kept {
				fmt.Fprintf(streams.Out, "the previous database is kept as %s.bak\n", target)
			}
			if info.SchemaVersion < info.LatestVersion {
				fmt.Fprintf(streams.Out, "anavara serve will migrate it to schema version %d when it starts\n", info.LatestVersion)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.dataDir, "data-dir", "./anavara-data", "directory holding anavara.db")
	registerDatabaseFlag(fs, &f.database)
	fs.StringVar(&f.from, "from", "", "backup file to restore (required)")
	return cmd
}

// refuseInUse fails when any process has the database at path open.
func refuseInUse(path string) error {
	busy, err := sqlite.InUse(path)
	if err != nil {
		return err
	}
	if busy {
		return fmt.Errorf("%s is in use (is anavara serve running?): stop the server, restore, then start it again", path)
	}
	return nil
}

// copyToTemp copies src into a new private file in dir, flushed to disk,
// and returns its path.
func copyToTemp(src, dir string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, "anavara.db.restore-*")
	if err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return "", fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Name(), nil
}

// swapIn renames tmp to target, keeping a previous target as target.bak.
// It reports whether there was a previous database to keep.
func swapIn(tmp, target string) (bool, error) {
	dir := filepath.Dir(target)
	bak := target + ".bak"
	_, err := os.Stat(target)
	kept := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if kept {
		for _, old := range []string{bak, bak + "-wal", bak + "-shm"} {
			if err := removeIfExists(old); err != nil {
				return false, err
			}
		}
		// A hard link keeps the previous file while target is replaced in
		// one rename; where links are not supported, move it aside.
		if err := os.Link(target, bak); err != nil {
			if err := os.Rename(target, bak); err != nil {
				return false, fmt.Errorf("keep the previous database: %w", err)
			}
		}
		// The previous write-ahead log belongs to the previous database:
		// left in place, SQLite would replay it into the restored one.
		if err := os.Rename(target+"-wal", bak+"-wal"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("keep the previous write-ahead log: %w", err)
		}
		if err := removeIfExists(target + "-shm"); err != nil {
			return false, err
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		return false, fmt.Errorf("restore: %w", err)
	}
	return kept, syncDir(dir)
}

// removeIfExists removes path, which need not exist.
func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
