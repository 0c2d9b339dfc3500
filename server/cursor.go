package server

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// A page cursor is a position in a list (db.Position: the sort key and id
// of the row a page ends or starts at), the way to go from it, and a bind
// of the list, filters and ordering it was made for. The key can be a
// patient's name (the patient_name ordering), and cursors travel in URLs,
// which proxies log: so the cursor is sealed (AES-256-GCM) rather than
// merely encoded, which also makes a tampered or made-up cursor fail to
// open. It holds nothing secret and grants nothing: every page is
// authorised and filtered for its caller as a first page is, so a cursor
// can only say where in the caller's own list to start.
//
// Sealed form, base64url without padding: cursorVersion, a 12-byte nonce,
// then the sealed payload, the version byte being its additional data.
// Payload: flags (cursorBackward), the 8-byte bind, the key (a tag byte:
// 't' Unix microseconds, 8 bytes big-endian; 'd' a YYYY-MM-DD date; 's'
// a string, its length as a uvarint first), then the id's 16 bytes.

// cursorVersion is the first byte of every cursor of this encoding.
const cursorVersion byte = 1

// cursorBackward flags a cursor to the page before its position.
const cursorBackward byte = 1

// errCursor is a cursor that does not open, or does not decode.
var errCursor = errors.New("malformed cursor")

// cursorSealer seals and opens cursors with keys derived from the JWT
// keys, as the reset codes' are (auth.OTPHasher): every instance given
// the same keys opens every other's cursors, and a cursor made before a
// key rotation still opens while its key is configured. The first key
// seals.
type cursorSealer struct{ aeads []cipher.AEAD }

// newCursorSealer derives a cursor key from each JWT key.
func newCursorSealer(keys []auth.JWTKey) (cursorSealer, error) {
	s := cursorSealer{aeads: make([]cipher.AEAD, len(keys))}
	for i, k := range keys {
		m := hmac.New(sha256.New, k.Secret)
		m.Write([]byte("anavara page cursor key v1"))
		block, err := aes.NewCipher(m.Sum(nil))
		if err != nil {
			return s, fmt.Errorf("cursor key: %w", err)
		}
		if s.aeads[i], err = cipher.NewGCM(block); err != nil {
			return s, fmt.Errorf("cursor key: %w", err)
		}
	}
	return s, nil
}

// seal returns the cursor of seek in the list bind names.
func (s cursorSealer) seal(bind [8]byte, seek db.Seek) (string, error) {
	payload, err := encodeCursor(bind, seek)
	if err != nil {
		return "", err
	}
	aead := s.aeads[0]
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(payload)+aead.Overhead())
	out[0] = cursorVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return "", fmt.Errorf("cursor nonce: %w", err)
	}
	out = aead.Seal(out, out[1:1+aead.NonceSize()], payload, out[:1])
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// open returns the position a cursor holds and the bind it was sealed
// with; errCursor when it is not one this server's keys sealed.
func (s cursorSealer) open(cursor string) ([8]byte, db.Seek, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(raw) < 1 || raw[0] != cursorVersion {
		return [8]byte{}, db.Seek{}, errCursor
	}
	for _, aead := range s.aeads {
		n := aead.NonceSize()
		if len(raw) < 1+n+aead.Overhead() {
			break
		}
		payload, err := aead.Open(nil, raw[1:1+n], raw[1+n:], raw[:1])
		if err == nil {
			return decodeCursor(payload)
		}
	}
	return [8]byte{}, db.Seek{}, errCursor
}

// encodeCursor is the payload of a cursor (see above).
func encodeCursor(bind [8]byte, seek db.Seek) ([]byte, error) {
	id, err := uuid.Parse(seek.ID)
	if err != nil {
		return nil, fmt.Errorf("cursor of id %q: %w", seek.ID, err)
	}
	var flags byte
	if seek.Backward {
		flags |= cursorBackward
	}
	b := append([]byte{flags}, bind[:]...)
	switch k := seek.Key.(type) {
	case time.Time:
		b = binary.BigEndian.AppendUint64(append(b, 't'), uint64(k.UnixMicro()))
	case model.Date:
		b = append(append(b, 'd'), k.String()...)
	case string:
		b = append(binary.AppendUvarint(append(b, 's'), uint64(len(k))), k...)
	default:
		return nil, fmt.Errorf("cursor of a key of type %T", seek.Key)
	}
	return append(b, id[:]...), nil
}

// decodeCursor reads what encodeCursor wrote.
func decodeCursor(b []byte) (bind [8]byte, seek db.Seek, err error) {
	if len(b) < 1+8+1+16 || b[0]&^cursorBackward != 0 {
		return bind, seek, errCursor
	}
	seek.Backward = b[0]&cursorBackward != 0
	copy(bind[:], b[1:9])
	tag, rest := b[9], b[10:len(b)-16]
	switch tag {
	case 't':
		if len(rest) != 8 {
			return bind, seek, errCursor
		}
		seek.Key = time.UnixMicro(int64(binary.BigEndian.Uint64(rest))).UTC()
	case 'd':
		d, err := model.ParseDate(string(rest))
		if err != nil {
			return bind, seek, errCursor
		}
		seek.Key = d
	case 's':
		n, w := binary.Uvarint(rest)
		if w <= 0 || uint64(len(rest)-w) != n {
			return bind, seek, errCursor
		}
		seek.Key = string(rest[w:])
	default:
		return bind, seek, errCursor
	}
	seek.ID = uuid.UUID(b[len(b)-16:]).String()
	return bind, seek, nil
}

// cursorBind names a list and what shapes it (its filters, as the server
// applies them, and its ordering): a cursor opens only on the list it
// was made for. Each part is length-prefixed, so no two lists share one.
func cursorBind(list string, parts ...string) [8]byte {
	h := sha256.New()
	for _, p := range append([]string{list}, parts...) {
		h.Write(binary.AppendUvarint(nil, uint64(len(p))))
		h.Write([]byte(p))
	}
	var bind [8]byte
	copy(bind[:], h.Sum(nil))
	return bind
}
