package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/server"
	"github.com/anavara/anavara/tui/client"
)

func TestNewValidatesBaseURL(t *testing.T) {
	for _, bad := range []string{"", "localhost:8080", "ftp://example.org", "/api", "http://", "http://x.org/?a=b", "http://x.org/#top", "::"} {
		if _, err := client.New(client.Options{BaseURL: bad}); err == nil {
			t.Errorf("New(%q) succeeded", bad)
		}
	}
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":          "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/":         "http://127.0.0.1:8080",
		" https://example.org/anavara/ ": "https://example.org/anavara",
	} {
		c, err := client.New(client.Options{BaseURL: in})
		if err != nil {
			t.Fatalf("New(%q): %v", in, err)
		}
		if got := c.BaseURL(); got != want {
			t.Errorf("BaseURL of %q = %q, want %q", in, got, want)
		}
	}
	// The API's own /api in the base URL would make every path /api/api/…:
	// refused with the address to use instead.
	for in, suggest := range map[string]string{
		"http://host:8080/api":            "http://host:8080",
		"http://host:8080/api/":           "http://host:8080",
		"https://example.org/anavara/api": "https://example.org/anavara",
	} {
		_, err := client.New(client.Options{BaseURL: in})
		if err == nil || !strings.Contains(err.Error(), "without /api") || !strings.Contains(err.Error(), suggest) {
			t.Errorf("New(%q) = %v, want an error suggesting %s", in, err, suggest)
		}
	}
}

func TestAPIError(t *testing.T) {
	e := &client.APIError{Status: 400, Message: "Enter a valid email address.", Fields: map[string][]string{"email": {"Enter a valid email address.", "second"}}}
	if got := e.Error(); got != "Enter a valid email address. (HTTP 400)" {
		t.Errorf("Error() = %q", got)
	}
	if e.Field("email") != "Enter a valid email address." || e.Field("password") != "" {
		t.Errorf("Field: %q %q", e.Field("email"), e.Field("password"))
	}
	wrapped := fmt.Errorf("context: %w", e)
	if !client.IsStatus(wrapped, 400) || client.IsStatus(wrapped, 404) || client.IsStatus(errors.New("x"), 400) || client.IsStatus(nil, 400) {
		t.Error("IsStatus")
	}
	limited := &client.APIError{Status: 429, Message: "Too many requests.", RetryAfter: 30 * time.Second}
	if got := limited.Error(); !strings.Contains(got, "429") || !strings.Contains(got, "30s") {
		t.Errorf("Error() = %q", got)
	}
	var nilFields client.APIError
	if nilFields.Field("x") != "" {
		t.Error("Field on nil map")
	}
}

func TestRateLimitedLoginRetryAfter(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.Limits.LoginPerIPAndEmail = ratelimit.Rule{Limit: 1, Window: time.Minute}
	})
	ctx := context.Background()
	c, _ := e.newClient()
	_, err := c.Login(ctx, "pat@example.org", "wrong-Password-1")
	apiError(t, err, http.StatusUnauthorized)
	_, err = c.Login(ctx, "pat@example.org", "wrong-Password-1")
	ae := apiError(t, err, http.StatusTooManyRequests)
	if ae.RetryAfter != time.Minute || ae.Message != "Too many requests. Try again later." {
		t.Fatalf("429: %+v", ae)
	}
	// Other answers carry no RetryAfter.
	_, err = c.Login(ctx, "other@example.org", "wrong-Password-1")
	if ae := apiError(t, err, http.StatusUnauthorized); ae.RetryAfter != 0 {
		t.Fatalf("401 with RetryAfter %v", ae.RetryAfter)
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusTooManyRequests) // no body at all
	}))
	defer ts.Close()
	c, err := client.New(client.Options{BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Health(context.Background())
	ae := apiError(t, err, http.StatusTooManyRequests)
	if ae.RetryAfter < 80*time.Second || ae.RetryAfter > 90*time.Second {
		t.Fatalf("RetryAfter %v, want about 90s", ae.RetryAfter)
	}
	if ae.Message != "Too Many Requests" {
		t.Fatalf("message of a body-less error %q", ae.Message)
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close()

	c, err := client.New(client.Options{BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	c.SetTokens(modelPair("access", "refresh"))
	ctx := context.Background()
	calls := map[string]error{
		"Health": c.Health(ctx),
		"Login":  func() error { _, err := c.Login(ctx, "pat@example.org", testPassword); return err }(),
		"Me":     func() error { _, err := c.Me(ctx); return err }(),
	}
	for name, err := range calls {
		var ue *client.UnreachableError
		if !errors.As(err, &ue) {
			t.Fatalf("%s: %v (%T) is not an UnreachableError", name, err, err)
		}
		if ue.URL != base || !strings.Contains(err.Error(), "cannot reach the Anavara server at "+base+": ") {
			t.Errorf("%s: URL %q, message %q", name, ue.URL, err)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("%s: %v does not wrap ECONNREFUSED", name, err)
		}
		if client.IsStatus(err, http.StatusUnauthorized) {
			t.Errorf("%s: unreachable counted as 401", name)
		}
	}
	// A failed refresh attempt that never reached the server keeps the tokens.
	if c.Tokens() != modelPair("access", "refresh") {
		t.Fatalf("tokens lost: %+v", c.Tokens())
	}
}

func TestTimeout(t *testing.T) {
	// A server that accepts connections but never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	c, err := client.New(client.Options{BaseURL: "http://" + ln.Addr().String(), Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = c.Health(context.Background())
	var ue *client.UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("%v (%T) is not an UnreachableError", err, err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("timeout took %v", elapsed)
	}

	// The caller cancelling is not the server being unreachable.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	c2, _ := client.New(client.Options{BaseURL: "http://" + ln.Addr().String()})
	err = c2.Health(ctx)
	if !errors.Is(err, context.Canceled) || errors.As(err, &ue) {
		t.Fatalf("cancelled call: %v (%T)", err, err)
	}
}

func TestResponseSizeCap(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"ok","pad":"%s"}`, strings.Repeat("x", 5<<20))
	}))
	defer ts.Close()
	c, err := client.New(client.Options{BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Health(context.Background())
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized response: %v", err)
	}
}
