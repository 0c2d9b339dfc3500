package tui

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
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

// FileStore is a CredentialStore in one JSON file mapping server URL to
// refresh token, written with mode 0600 (its directory with 0700) and
// replaced atomically.
type FileStore struct {
	path string
	mu   sync.Mutex
}

// FileCredentials returns the CredentialStore at dir/credentials.json.
func FileCredentials(dir string) *FileStore {
	return &FileStore{path: filepath.Join(dir, "credentials.json")}
}

// Path is the file the tokens are kept in.
func (f *FileStore) Path() string { return f.path }

type credentialsFile struct {
	Servers map[string]credentialEntry `json:"servers"`
}

type credentialEntry struct {
	RefreshToken string `json:"refresh_token"`
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

func (f *FileStore) write(c credentialsFile) error {
	dir := filepath.Dir(f.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
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

// Load implements CredentialStore.
func (f *FileStore) Load(server string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.read()
	if err != nil {
		return "", err
	}
	return c.Servers[server].RefreshToken, nil
}

// Save implements CredentialStore.
func (f *FileStore) Save(server, refresh string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.read()
	if err != nil {
		// A corrupt file must not lock the user out: start afresh.
		c = credentialsFile{Servers: map[string]credentialEntry{}}
	}
	c.Servers[server] = credentialEntry{RefreshToken: refresh}
	return f.write(c)
}

// Delete implements CredentialStore.
func (f *FileStore) Delete(server string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.read()
	if err != nil {
		return err
	}
	if _, ok := c.Servers[server]; !ok {
		return nil
	}
	delete(c.Servers, server)
	return f.write(c)
}
