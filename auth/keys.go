package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// JWTKey is one access-token key: the first of a list of keys
// (server.Config.JWTKeys) signs, every one verifies, so a secret can be
// rotated without signing everyone out. Tokens name their key in the kid
// header.
type JWTKey struct {
	// ID is the key id tokens carry in their kid header. It is public.
	ID string
	// Secret is the HMAC key, at least MinJWTSecretLen bytes.
	Secret []byte
}

// MinJWTSecretLen is the shortest access-token secret accepted.
const MinJWTSecretLen = 32

// KeyID is the id of a key given without one: the first 8 hex digits of the
// SHA-256 of its secret (printf %s "$SECRET" | sha256sum | cut -c1-8), so
// every instance given the same secret derives the same id.
func KeyID(secret []byte) string {
	sum := sha256.Sum256(secret)
	return hex.EncodeToString(sum[:4])
}

// keyIDPattern is what may stand before the first colon of an ID:SECRET
// entry; an entry whose text before its first colon is anything else is a
// bare secret.
var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ParseJWTKeys reads the --jwt-secret setting: keys separated by commas,
// each ID:SECRET or a bare SECRET (its id is KeyID(SECRET)); the first
// signs, all verify. Its errors name entries by position and never quote a
// secret.
func ParseJWTKeys(setting string) ([]JWTKey, error) {
	if setting == "" {
		return nil, errors.New("no key given")
	}
	entries := strings.Split(setting, ",")
	keys := make([]JWTKey, 0, len(entries))
	for i, e := range entries {
		if e == "" {
			return nil, fmt.Errorf("key %d of %d is empty (keys are separated by single commas)", i+1, len(entries))
		}
		k := JWTKey{Secret: []byte(e)}
		if id, secret, ok := strings.Cut(e, ":"); ok && keyIDPattern.MatchString(id) {
			k = JWTKey{ID: id, Secret: []byte(secret)}
		}
		if k.ID == "" {
			k.ID = KeyID(k.Secret)
		}
		keys = append(keys, k)
	}
	if err := CheckJWTKeys(keys); err != nil {
		return nil, err
	}
	return keys, nil
}

// CheckJWTKeys refuses short secrets and duplicate ids, for keys given
// in code rather than through ParseJWTKeys.
func CheckJWTKeys(keys []JWTKey) error {
	if len(keys) == 0 {
		return errors.New("no key given")
	}
	seen := make(map[string]int, len(keys))
	for i, k := range keys {
		if k.ID == "" {
			return fmt.Errorf("key %d of %d has an empty id", i+1, len(keys))
		}
		if len(k.Secret) < MinJWTSecretLen {
			return fmt.Errorf("key %d of %d (id %q): the secret is %d bytes, at least %d are needed", i+1, len(keys), k.ID, len(k.Secret), MinJWTSecretLen)
		}
		if j, dup := seen[k.ID]; dup {
			return fmt.Errorf("keys %d and %d of %d have the same id %q (the same secret twice, or one id given twice)", j+1, i+1, len(keys), k.ID)
		}
		seen[k.ID] = i
	}
	return nil
}

// MaxServiceTokens is how many --service-token values are accepted at once:
// the current one and the next, during a rotation.
const MaxServiceTokens = 2

// ParseServiceTokens reads the --service-token setting: the current token,
// or the current and the next separated by a comma. The API accepts each;
// an SSH front end sends the first. Errors never quote a token.
func ParseServiceTokens(setting string) ([]string, error) {
	if setting == "" {
		return nil, errors.New("no token given")
	}
	tokens := strings.Split(setting, ",")
	if len(tokens) > MaxServiceTokens {
		return nil, fmt.Errorf("%d tokens given; at most %d (the current one and the next)", len(tokens), MaxServiceTokens)
	}
	for i, tok := range tokens {
		if tok == "" {
			return nil, fmt.Errorf("token %d of %d is empty (tokens are separated by a single comma)", i+1, len(tokens))
		}
	}
	if len(tokens) == 2 && tokens[0] == tokens[1] {
		return nil, errors.New("the two tokens are the same")
	}
	return tokens, nil
}

// ServiceTokenValid reports whether given is one of the accepted service
// tokens. Both sides are hashed first so that the comparisons take the
// same time whatever the lengths, and every token is compared.
func ServiceTokenValid(accepted []string, given string) bool {
	g := sha256.Sum256([]byte(given))
	ok := 0
	for _, tok := range accepted {
		t := sha256.Sum256([]byte(tok))
		ok |= subtle.ConstantTimeCompare(g[:], t[:])
	}
	return ok == 1 && len(accepted) > 0
}
