package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"math/big"
)

// OTPHasher keys reset-code hashes with a server secret: six digits have
// only a million values, so an unkeyed hash would not protect them. The
// key is derived from each JWT key: new codes are hashed with the signing
// key's, and a code is checked against every key's, so a code requested
// before a rotation still works after it as long as its key is still
// configured (codes live minutes; a rotation keeps the old key for at
// least an access-token lifetime). The other choice, a secret that never
// rotates, would be one more secret to share and could never be changed.
type OTPHasher struct{ keys [][]byte }

// NewOTPHasher derives the code-hashing keys from the JWT keys, the
// signing key first.
func NewOTPHasher(keys []JWTKey) OTPHasher {
	h := OTPHasher{keys: make([][]byte, len(keys))}
	for i, k := range keys {
		m := hmac.New(sha256.New, k.Secret)
		m.Write([]byte("anavara otp key v1"))
		h.keys[i] = m.Sum(nil)
	}
	return h
}

// Hash is the stored form of a new code, under the signing key.
func (h OTPHasher) Hash(userID, code string) []byte {
	return otpHash(h.keys[0], userID, code)
}

// Matches reports whether stored is code's hash under any key, comparing
// in constant time against every one.
func (h OTPHasher) Matches(stored []byte, userID, code string) bool {
	ok := 0
	for _, k := range h.keys {
		ok |= subtle.ConstantTimeCompare(stored, otpHash(k, userID, code))
	}
	return ok == 1
}

func otpHash(key []byte, userID, code string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(userID))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return m.Sum(nil)
}

// NewOTPCode returns six uniformly random digits.
func NewOTPCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("reset code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}
