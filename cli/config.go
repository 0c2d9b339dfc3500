package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/engines"
)

// storeFlags are the flags of every command that opens the database.
type storeFlags struct {
	dataDir     string
	database    string
	synchronous string
}

func (f *storeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", "./anavara-data", "directory holding anavara.db and generated secrets")
	registerDatabaseFlag(fs, &f.database)
	fs.StringVar(&f.synchronous, "synchronous", "FULL", "SQLite synchronous mode: FULL (crash-safe) or NORMAL")
}

// registerDatabaseFlag adds --database, which every command that opens
// the database takes.
func registerDatabaseFlag(fs *pflag.FlagSet, database *string) {
	fs.StringVar(database, "database", "", "database to use: empty for SQLite at <data-dir>/anavara.db, sqlite:PATH, or postgres://user:password@host/dbname (prefer the environment variable: the URL holds a password)")
}

// target is the database the flags name. Opening a SQLite target creates
// its directory (engines.Open); a PostgreSQL one needs none.
func (f *storeFlags) target() (engines.Target, error) {
	return engines.Parse(f.database, f.dataDir)
}

// open opens the database the flags name, applying pending migrations.
func (f *storeFlags) open(ctx context.Context) (db.Store, engines.Target, error) {
	t, err := f.target()
	if err != nil {
		return nil, t, err
	}
	store, err := engines.Open(ctx, t, engines.Options{Synchronous: f.synchronous})
	return store, t, err
}

// loadOrCreateSecret returns the secret stored in dir/name, generating and
// storing 32 random bytes (mode 0600) on first use, so restarts keep it.
func loadOrCreateSecret(dir, name string) ([]byte, error) {
	path := filepath.Join(dir, name)
	data, err := os.ReadFile(path)
	if err == nil {
		secret, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
		if derr != nil || len(secret) < 32 {
			return nil, fmt.Errorf("secret file %s is corrupt: delete it to generate a new one (signs everyone out)", path)
		}
		return secret, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("generate secret: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write secret: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(secret) + "\n"); err != nil {
		return nil, fmt.Errorf("write secret: %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("write secret: %w", err)
	}
	return secret, nil
}

// newLogger builds the structured logger for format "text" or "json".
func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}
