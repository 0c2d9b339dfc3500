package auth_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/anavara/anavara/auth"
)

func TestParseJWTKeys(t *testing.T) {
	long := strings.Repeat("s", 32)
	other := strings.Repeat("t", 40)
	for name, tc := range map[string]struct {
		setting string
		want    []auth.JWTKey
		err     string // a substring of the error
	}{
		"bare":          {long, []auth.JWTKey{{ID: auth.KeyID([]byte(long)), Secret: []byte(long)}}, ""},
		"id and secret": {"k1:" + long, []auth.JWTKey{{ID: "k1", Secret: []byte(long)}}, ""},
		"several, first signs": {"new:" + other + "," + long, []auth.JWTKey{
			{ID: "new", Secret: []byte(other)}, {ID: auth.KeyID([]byte(long)), Secret: []byte(long)}}, ""},
		"colon after a non-id is part of a bare secret": {"pass phrase:" + long,
			[]auth.JWTKey{{ID: auth.KeyID([]byte("pass phrase:" + long)), Secret: []byte("pass phrase:" + long)}}, ""},
		"colons inside the secret":           {"k1:" + long + ":x", []auth.JWTKey{{ID: "k1", Secret: []byte(long + ":x")}}, ""},
		"empty":                              {"", nil, "no key given"},
		"too short bare":                     {"short-secret", nil, "key 1 of 1 (id \"" + auth.KeyID([]byte("short-secret")) + "\"): the secret is 12 bytes, at least 32 are needed"},
		"too short with id":                  {"k1:" + long + ",k2:short-secret", nil, "key 2 of 2 (id \"k2\"): the secret is 12 bytes"},
		"empty secret":                       {"k1:", nil, "the secret is 0 bytes"},
		"duplicate id":                       {"k1:" + long + ",k1:" + other, nil, "keys 1 and 2 of 2 have the same id \"k1\""},
		"duplicate bare secret":              {long + "," + long, nil, "keys 1 and 2 of 2 have the same id"},
		"explicit id equal to a derived one": {auth.KeyID([]byte(long)) + ":" + other + "," + long, nil, "same id"},
		"empty entry":                        {"k1:" + long + ",,k2:" + other, nil, "key 2 of 3 is empty"},
		"trailing comma":                     {"k1:" + long + ",", nil, "key 2 of 2 is empty"},
		"leading comma":                      {"," + long, nil, "key 1 of 2 is empty"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := auth.ParseJWTKeys(tc.setting)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				for _, secret := range []string{long, other, "short-secret"} {
					if strings.Contains(err.Error(), secret) {
						t.Fatalf("error %q quotes a secret", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d keys, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i].ID != tc.want[i].ID || !bytes.Equal(got[i].Secret, tc.want[i].Secret) {
					t.Fatalf("key %d: id %q, want %q (or the secret differs)", i, got[i].ID, tc.want[i].ID)
				}
			}
		})
	}
}

func TestKeyIDIsSHA256Prefix(t *testing.T) {
	// printf %s 'anavara-test-secret-0123456789abcdef' | sha256sum | cut -c1-8
	if got := auth.KeyID([]byte("anavara-test-secret-0123456789abcdef")); got != "b3835ece" {
		t.Fatalf("KeyID = %s, want b3835ece", got)
	}
}

func TestParseServiceTokens(t *testing.T) {
	for name, tc := range map[string]struct {
		setting string
		want    []string
		err     string
	}{
		"one":            {"tok-cur", []string{"tok-cur"}, ""},
		"current, next":  {"tok-cur,tok-nxt", []string{"tok-cur", "tok-nxt"}, ""},
		"empty":          {"", nil, "no token given"},
		"three":          {"tok-a,tok-b,tok-c", nil, "3 tokens given; at most 2"},
		"empty next":     {"tok-cur,", nil, "token 2 of 2 is empty"},
		"empty current":  {",tok-nxt", nil, "token 1 of 2 is empty"},
		"the same twice": {"tok-cur,tok-cur", nil, "the two tokens are the same"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := auth.ParseServiceTokens(tc.setting)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "tok-") {
					t.Fatalf("error %q quotes a token", err)
				}
				return
			}
			if err != nil || strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
