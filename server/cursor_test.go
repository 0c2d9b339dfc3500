package server

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

func testKey(id string) auth.JWTKey {
	return auth.JWTKey{ID: id, Secret: bytes.Repeat([]byte(id), 32)}
}

// A cursor opens into the position, direction and bind it was sealed
// with, for every kind of key; a cursor sealed before a key rotation
// opens while its key is configured, and not after; a damaged one, or
// one of other keys, does not open. Nothing of the key shows in it.
func TestCursorSealing(t *testing.T) {
	old, err := newCursorSealer([]auth.JWTKey{testKey("a")})
	if err != nil {
		t.Fatal(err)
	}
	rotated, _ := newCursorSealer([]auth.JWTKey{testKey("b"), testKey("a")})
	retired, _ := newCursorSealer([]auth.JWTKey{testKey("b")})
	bind := cursorBind("records", "", "Élodie")
	for _, seek := range []db.Seek{
		{Position: db.Position{Key: time.Date(2026, 3, 10, 9, 30, 0, 123456000, time.UTC), ID: uuid.NewString()}},
		{Position: db.Position{Key: model.NewDate(2031, time.June, 1), ID: uuid.NewString()}, Backward: true},
		{Position: db.Position{Key: "élodie martin", ID: uuid.NewString()}},
		{Position: db.Position{Key: "", ID: uuid.NewString()}, Backward: true},
		{Position: db.Position{Key: strings.Repeat("long name ", 100), ID: uuid.NewString()}},
	} {
		c, err := old.seal(bind, seek)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(c, "lodie") || strings.ContainsAny(c, "+/=") {
			t.Errorf("cursor %s shows its key or is not base64url", c)
		}
		for name, s := range map[string]cursorSealer{"same keys": old, "rotated": rotated} {
			gotBind, got, err := s.open(c)
			if err != nil || gotBind != bind || got.ID != seek.ID || got.Backward != seek.Backward || got.Key != seek.Key {
				t.Errorf("%s: open %v: %v %+v, %v", name, seek, gotBind, got, err)
			}
		}
		if _, _, err := retired.open(c); !errors.Is(err, errCursor) {
			t.Errorf("opened with the key retired: %v", err)
		}
		raw, _ := base64.RawURLEncoding.DecodeString(c)
		for i := range raw {
			bad := bytes.Clone(raw)
			bad[i] ^= 0x40
			if _, _, err := old.open(base64.RawURLEncoding.EncodeToString(bad)); !errors.Is(err, errCursor) {
				t.Errorf("byte %d changed: opened", i)
			}
		}
		for _, bad := range []string{"", "AQ", c[:len(c)-1], c + "A", "!!", base64.RawURLEncoding.EncodeToString(raw[:20])} {
			if _, _, err := old.open(bad); !errors.Is(err, errCursor) {
				t.Errorf("%q: opened", bad)
			}
		}
	}
	// Binds differ with any part, and with where parts split.
	for _, other := range [][8]byte{cursorBind("users", "", "Élodie"), cursorBind("records", "Élodie", ""), cursorBind("records", "", "Élodie", ""), cursorBind("records", "É", "lodie")} {
		if other == bind {
			t.Errorf("bind collision")
		}
	}
}
