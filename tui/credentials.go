package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// CredentialStore keeps the refresh token of each server between runs, so
// the next start goes straight to the records. Implementations must be safe
// for concurrent use: the UI calls them from its commands.
type CredentialStore interface {
	// Load returns the stored refresh token for server, or "" and no error
	// when there is none.
	Load(server string) (refresh string, err error)
	// Save stores refresh for server, replacing any earlier token.
	Save(server, refresh string) error
	// Delete forgets the token for server; deleting nothing is not an error.
	Delete(server string) error
}

// FileStore is a CredentialStore and a client.TokenStore in one JSON file
// mapping server URL to token pair, written with mode 0600 (its directory
// with 0700) and replaced atomically (temporary file, then rename). Every
// write, and every Update, holds an exclusive flock on the sibling file
// credentials.lock, so processes sharing the directory (two `anavara tui`
// windows) never lose each other's writes nor refresh one token twice. The
// lock is on a sibling because the credentials file itself is replaced by
// each write: a lock on it would be on a file the next reader no longer
// opens. Where flock is missing (not unix), only this process is excluded.
type FileStore struct {
	path string
	lock string
	mu   sync.Mutex
}

// lockWait bounds how long Save and Delete, which take no context, wait
// for another process's lock.
const lockWait = 15 * time.Second

// FileCredentials returns the store at dir/credentials.json.
func FileCredentials(dir string) *FileStore {
	return &FileStore{path: filepath.Join(dir, "credentials.json"), lock: filepath.Join(dir, "credentials.lock")}
}

// NewSharedClient returns a client configured by opts that keeps its pair
// in store (opts.Store is set to it), starting from the pair stored there
// for its server: the local TUI's client, safe to run in several processes
// at once.
func NewSharedClient(opts client.Options, store *FileStore) (*client.Client, error) {
	opts.Store = store
	c, err := client.New(opts)
	if err != nil {
		return nil, err
	}
	// The key is the URL as the client normalises it, so that
	// "http://host:8080/" and "http://host:8080" share one entry.
	if p, err := store.Pair(c.BaseURL()); err == nil && p.RefreshToken != "" {
		c.SetTokens(p)
	}
	return c, nil
}

// Path is the file the tokens are kept in.
func (f *FileStore) Path() string { return f.path }

type credentialsFile struct {
	Servers map[string]credentialEntry `json:"servers"`
}

// credentialEntry is one server's pair. The access token is kept too, so a
// window that finds a pair another one stored can use it without a refresh
// of its own; files written before it was kept have only the refresh token.
type credentialEntry struct {
	RefreshToken string `json:"refresh_token"`
	AccessToken  string `json:"access_token,omitempty"`
}

func (f *FileStore) read() (credentialsFile, error) {
	var c credentialsFile
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return credentialsFile{Servers: map[string]credentialEntry{}}, nil
	}
	if err != nil {
		return c, fmt.Errorf("reading %s: %w", f.path, err)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("reading %s: %w", f.path, err)
	}
	if c.Servers == nil {
		c.Servers = map[string]credentialEntry{}
	}
	return c, nil
}

// write replaces the file with c; the caller holds the lock.
func (f *FileStore) write(c credentialsFile) error {
	dir := filepath.Dir(f.path)
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".credentials-*.json")
	if err != nil {
		return fmt.Errorf("writing credentials: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("writing credentials: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing credentials: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing credentials: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing credentials: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("writing credentials: %w", err)
	}
	return nil
}

// locked runs fn holding f.mu and the cross-process lock, waiting for the
// latter at most until ctx is done.
func (f *FileStore) locked(ctx context.Context, fn func() error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(f.path), err)
	}
	unlock, err := lockFile(ctx, f.lock)
	if err != nil {
		return fmt.Errorf("locking %s: %w", f.lock, err)
	}
	defer unlock()
	return fn()
}

// Load implements CredentialStore.
func (f *FileStore) Load(server string) (string, error) {
	p, err := f.Pair(server)
	return p.RefreshToken, err
}

// Pair returns the pair stored for server (its access token may be empty,
// or expired), or the zero pair and no error when there is none. Reading
// takes no lock: writes replace the file atomically.
func (f *FileStore) Pair(server string) (model.TokenPair, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.read()
	if err != nil {
		return model.TokenPair{}, err
	}
	e := c.Servers[server]
	return model.TokenPair{AccessToken: e.AccessToken, RefreshToken: e.RefreshToken}, nil
}

// Save implements CredentialStore. It stores no access token.
func (f *FileStore) Save(server, refresh string) error {
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	return f.locked(ctx, func() error {
		c, err := f.read()
		if err != nil {
			// A corrupt file must not lock the user out: start afresh.
			c = credentialsFile{Servers: map[string]credentialEntry{}}
		}
		c.Servers[server] = credentialEntry{RefreshToken: refresh}
		return f.write(c)
	})
}

// Delete implements CredentialStore.
func (f *FileStore) Delete(server string) error {
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	return f.locked(ctx, func() error {
		c, err := f.read()
		if err != nil {
			return err
		}
		if _, ok := c.Servers[server]; !ok {
			return nil
		}
		delete(c.Servers, server)
		return f.write(c)
	})
}

// Update implements client.TokenStore: fn sees the file as it is once the
// lock is held (re-read, not cached), and what it returns is written before
// the lock is released.
func (f *FileStore) Update(ctx context.Context, server string, fn func(stored model.TokenPair) (model.TokenPair, bool, error)) error {
	return f.locked(ctx, func() error {
		c, err := f.read()
		if err != nil {
			c = credentialsFile{Servers: map[string]credentialEntry{}}
		}
		e := c.Servers[server]
		next, write, err := fn(model.TokenPair{AccessToken: e.AccessToken, RefreshToken: e.RefreshToken})
		if err != nil || !write {
			return err
		}
		if next.RefreshToken == "" {
			if _, ok := c.Servers[server]; !ok {
				return nil
			}
			delete(c.Servers, server)
		} else {
			c.Servers[server] = credentialEntry{RefreshToken: next.RefreshToken, AccessToken: next.AccessToken}
		}
		return f.write(c)
	})
}
