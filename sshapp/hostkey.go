package sshapp

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
)

// LoadOrCreateHostKey returns the PEM-encoded ed25519 host key at path,
// generating it (mode 0600) on first start, so clients see the same host key
// after every restart.
func LoadOrCreateHostKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		if _, perr := gossh.ParsePrivateKey(data); perr != nil {
			return nil, fmt.Errorf("host key %s is unreadable: %w", path, perr)
		}
		return data, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read host key: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate host key: %w", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "anavara host key")
	if err != nil {
		return nil, fmt.Errorf("encode host key: %w", err)
	}
	data = pem.EncodeToMemory(block)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("host key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write host key: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return nil, fmt.Errorf("write host key: %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("write host key: %w", err)
	}
	return data, nil
}
