package chain

import "encoding/hex"

// AppendUUID appends the 16 bytes of u as the encoding writes an id: a
// lower-case uuid in text, as uuid.UUID.String writes it, making no
// string. A store that keeps ids as bytes (SQLite's packed lists,
// PostgreSQL's uuid columns) encodes its rows with it (StoredFields).
// It panics unless len(u) is 16.
func AppendUUID(buf []byte, u []byte) []byte {
	_ = u[15]
	var t [36]byte
	hex.Encode(t[0:8], u[0:4])
	t[8] = '-'
	hex.Encode(t[9:13], u[4:6])
	t[13] = '-'
	hex.Encode(t[14:18], u[6:8])
	t[18] = '-'
	hex.Encode(t[19:23], u[8:10])
	t[23] = '-'
	hex.Encode(t[24:], u[10:16])
	return append(buf, t[:]...)
}
