package server_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/model"
)

// rawExchange writes req as is to the server at base and reads the answer.
func rawExchange(t *testing.T, base, req string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// TestHTTPErrorsNeverEchoTheRequest is the regression for fasthttp's parse
// errors reaching clients: `Content-Length: -5` answered 400 with a
// message quoting the raw request, Authorization and Cookie headers
// included, and unknown methods answered text/plain. Every such answer is
// now the JSON error shape with a fixed message.
func TestHTTPErrorsNeverEchoTheRequest(t *testing.T) {
	h := newHarness(t)
	base := h.serveOnLoopback()
	const secrets = "Authorization: Bearer SECRET-TOKEN-1\r\nCookie: session=SECRET-COOKIE-2\r\n"
	cases := []struct {
		name    string
		req     string
		status  int
		message string
	}{
		{"negative Content-Length", "POST /api/auth/login HTTP/1.1\r\nHost: x\r\n" + secrets + "Content-Length: -5\r\n\r\n",
			http.StatusBadRequest, "Malformed request."},
		{"no method", "GARBAGE\r\n" + secrets + "\r\n", http.StatusBadRequest, "Malformed request."},
		{"bad chunk size", "POST /api/auth/login HTTP/1.1\r\nHost: x\r\n" + secrets +
			"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n\r\n", http.StatusBadRequest, "Malformed request."},
		{"headers too large", "GET /healthz HTTP/1.1\r\nHost: x\r\n" + secrets + "X-Big: " + strings.Repeat("a", 10000) + "\r\n\r\n",
			http.StatusRequestHeaderFieldsTooLarge, "Request headers too large."},
		{"PROPFIND", "PROPFIND /api/users HTTP/1.1\r\nHost: x\r\n" + secrets + "\r\n", http.StatusMethodNotAllowed, "Method not allowed."},
		{"made-up method", "FOO /healthz HTTP/1.1\r\nHost: x\r\n" + secrets + "\r\n", http.StatusMethodNotAllowed, "Method not allowed."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, body := rawExchange(t, base, c.req)
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d; body %s", res.StatusCode, c.status, body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q, want application/json; body %s", ct, body)
			}
			var e model.ErrorBody
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Message != c.message {
				t.Fatalf("body %s, want {\"message\": %q}", body, c.message)
			}
			for _, leak := range []string{"SECRET", "Bearer", "Cookie", "contents", "Buffer"} {
				if strings.Contains(body, leak) {
					t.Fatalf("body quotes the request (%q): %s", leak, body)
				}
			}
			if res.Header.Get("X-Request-ID") == "" {
				t.Fatal("no X-Request-ID")
			}
		})
	}
}
