package password_test

import (
	"strings"
	"testing"

	"github.com/anavara/anavara/password"
)

func TestHashVerify(t *testing.T) {
	h, err := password.Hash("correct horse battery", password.DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not PHC argon2id with OWASP parameters", h)
	}
	h2, _ := password.Hash("correct horse battery", password.DefaultParams)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{"correct horse battery", true}, {"correct horse batterY", false}, {"", false}} {
		ok, err := password.Verify(tc.pw, h)
		if err != nil || ok != tc.want {
			t.Errorf("Verify(%q) = %v, %v; want %v", tc.pw, ok, err, tc.want)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=18$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", "$argon2id$v=19$m=1,t=1,p=1$!!$AA"} {
		if _, err := password.Verify("x", h); err == nil {
			t.Errorf("Verify accepted malformed hash %q", h)
		}
	}
}

func TestVerifyHonoursStoredParams(t *testing.T) {
	cheap := password.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	h, err := password.Hash("pw-with-old-params", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := password.Verify("pw-with-old-params", h); !ok || err != nil {
		t.Fatalf("hash made with other parameters did not verify: %v %v", ok, err)
	}
}
