package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/anavara/anavara/db/engines"
	"github.com/anavara/anavara/db/sqlite"
)

// backupFlags configure anavara backup.
type backupFlags struct {
	dataDir  string
	database string
	out      string
}

func newBackupCommand(streams Streams) *cobra.Command {
	var f backupFlags
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Write a consistent copy of the database, even while the server runs",
		Long: "Write a consistent copy of the database in the data directory to FILE, with\n" +
			"SQLite's VACUUM INTO: it reads one snapshot, so a running server keeps answering\n" +
			"and writing meanwhile, and the copy holds every write committed before it began.\n" +
			"FILE must not exist; it is created readable by its owner only. Put it back with\n" +
			"`anavara restore --from FILE`.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.out == "" {
				return errors.New("--out names the file to write the backup to")
			}
			t, err := sqliteOnly(f.database, f.dataDir, "backup")
			if err != nil {
				return err
			}
			src := t.Path
			if _, err := os.Stat(src); err != nil {
				return fmt.Errorf("no database to back up at %s: %w", src, err)
			}
			out, err := filepath.Abs(f.out)
			if err != nil {
				return err
			}
			// Creating the file first refuses to overwrite anything, even a
			// file appearing in a race, and makes it private; VACUUM INTO
			// accepts an empty file.
			file, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s already exists: backup never overwrites a file; choose another name", f.out)
			}
			if err != nil {
				return fmt.Errorf("create backup: %w", err)
			}
			file.Close()
			size, err := writeBackup(cmd, src, out)
			if err != nil {
				os.Remove(out)
				return err
			}
			fmt.Fprintf(streams.Out, "backup of %s written to %s (%d bytes)\n", src, out, size)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.dataDir, "data-dir", "./anavara-data", "directory holding anavara.db")
	registerDatabaseFlag(fs, &f.database)
	fs.StringVar(&f.out, "out", "", "file to write the backup to; must not exist (required)")
	return cmd
}

// writeBackup copies the database at src into the empty file out, makes it
// durable and returns its size.
func writeBackup(cmd *cobra.Command, src, out string) (int64, error) {
	// The database is copied as it is: a running server owns its schema.
	// The server and this command share it through SQLite's locks.
	store, err := sqlite.Open(cmd.Context(), sqlite.Options{Path: src, SkipMigrations: true})
	if err != nil {
		return 0, err
	}
	defer store.Close()
	if err := store.Backup(cmd.Context(), out); err != nil {
		return 0, err
	}
	if err := syncFile(out); err != nil {
		return 0, err
	}
	if err := syncDir(filepath.Dir(out)); err != nil {
		return 0, err
	}
	info, err := os.Stat(out)
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}

// syncFile flushes the file at path to stable storage.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}

// syncDir makes a file created, renamed or removed in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// sqliteOnly resolves the --database setting of backup or restore, which
// copy SQLite files: a PostgreSQL database is backed up with its own tools.
func sqliteOnly(database, dataDir, command string) (engines.Target, error) {
	t, err := engines.Parse(database, dataDir)
	if err != nil {
		return t, err
	}
	if t.Engine != engines.SQLite {
		return t, fmt.Errorf("anavara %s copies SQLite files; back up PostgreSQL with its own tools: "+
			"pg_dump -Fc for a copy (pg_restore puts it back), or continuous WAL archiving with "+
			"pg_basebackup for point-in-time recovery (README: Running on PostgreSQL)", command)
	}
	return t, nil
}
