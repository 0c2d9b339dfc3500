package server_test

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serveOnLoopback runs the harness's server on a real loopback listener,
// so requests can come from different client addresses.
func (h *harness) serveOnLoopback() string {
	h.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	go h.srv.Serve(ln)
	return "http://" + ln.Addr().String()
}

// loginFrom posts a login from the loopback address src and returns the
// status and Retry-After.
func loginFrom(t *testing.T, base, src, email, pw string) (int, string) {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext}}
	body := `{"email":"` + email + `","password":"` + pw + `"}`
	res, err := client.Post(base+"/api/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("login from %s: %v", src, err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Retry-After")
}

// TestLoginThrottledPerAccountAcrossAddresses is the regression for
// password guessing spread over many addresses: 300 wrong passwords for one
// account from 30 addresses all answered 401 and the right one then worked.
// Now 20 failures block the account's logins from every address, known
// and unknown emails alike, for a short, growing back-off that a
// successful login or a password reset clears.
func TestLoginThrottledPerAccountAcrossAddresses(t *testing.T) {
	h := newHarness(t)
	victim := h.signup("victim@example.org")
	base := h.serveOnLoopback()
	addr := func(i int) string { return "127.0.1." + strconv.Itoa(i%250+1) }

	for _, email := range []string{victim.Email, "nobody@example.org"} {
		for i := range 20 {
			if status, _ := loginFrom(t, base, addr(i), email, "Wrong-guess-123"); status != http.StatusUnauthorized {
				t.Fatalf("%s: failure %d from %s answered %d, want 401", email, i+1, addr(i), status)
			}
		}
		// The right password from a fresh address is refused too: the
		// answer must not tell a guesser that a guess was right.
		status, retry := loginFrom(t, base, "127.0.2.1", email, victim.Password)
		if status != http.StatusTooManyRequests || retry != "60" {
			t.Fatalf("%s after 20 failures: %d, Retry-After %q; want 429 and 60", email, status, retry)
		}
	}

	// The block ends by itself; the owner's login then clears the count.
	h.clock.Advance(time.Minute)
	if status, _ := loginFrom(t, base, "127.0.2.1", victim.Email, victim.Password); status != http.StatusOK {
		t.Fatalf("right password after the block: %d, want 200", status)
	}
	for i := range 19 {
		loginFrom(t, base, addr(100+i), victim.Email, "Wrong-guess-123")
	}
	if status, _ := loginFrom(t, base, "127.0.2.1", victim.Email, victim.Password); status != http.StatusOK {
		t.Fatalf("19 failures after a successful login blocked the account (%d): the login did not clear the count", status)
	}

	// Blocks grow while guessing goes on: the second in a row lasts 2 min.
	for round, want := range []string{"60", "120"} {
		for i := range 20 {
			loginFrom(t, base, addr(150+i), victim.Email, "Wrong-guess-123")
		}
		if status, retry := loginFrom(t, base, "127.0.2.1", victim.Email, victim.Password); status != http.StatusTooManyRequests || retry != want {
			t.Fatalf("block %d: %d, Retry-After %q; want 429 and %s", round+1, status, retry, want)
		}
		h.clock.Advance(time.Minute)
	}

	// A password reset proves the mailbox and lifts the block at once.
	code := h.resetCode(victim.Email)
	h.post("/api/auth/reset-password", map[string]any{"email": victim.Email, "otp_code": code, "password": "Fresh-Lantern-77"}, "").expect(http.StatusOK)
	if status, _ := loginFrom(t, base, "127.0.2.1", victim.Email, "Fresh-Lantern-77"); status != http.StatusOK {
		t.Fatalf("login right after a password reset: %d, want 200", status)
	}
}
