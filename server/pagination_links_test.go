package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/server"
)

// TestPaginationLinksIgnoreForgedHeaders is the regression for a next
// link that came back as javascript://evil.example/...: links were built
// from the client's Host and X-Forwarded-Proto/Host. Now they name
// --public-url when it is set, else the listener's address; a trusted
// proxy's X-Forwarded-Proto and X-Forwarded-Host count, a client's never.
func TestPaginationLinksIgnoreForgedHeaders(t *testing.T) {
	forged := [][2]string{
		{"Host", "evil.example"},
		{"X-Forwarded-Host", "evil.example"},
		{"X-Forwarded-Proto", "javascript"},
		{"X-Forwarded-Protocol", "javascript"},
		{"X-Url-Scheme", "javascript"},
		{"X-Forwarded-Ssl", "on"},
	}
	const query = "?page_size=1&page=2&search=example"
	tests := []struct {
		name      string
		publicURL string
		proxies   string
		src       string
		headers   [][2]string
		// want is the links' start; "" means the listener's address.
		want string
	}{
		{name: "untrusted client, no public URL", src: "127.0.0.40", headers: forged},
		{name: "untrusted peer while a proxy is trusted", proxies: "127.0.0.41", src: "127.0.0.42", headers: forged},
		{name: "public URL", publicURL: "https://records.example.org", src: "127.0.0.43", headers: forged,
			want: "https://records.example.org/api/users"},
		{name: "public URL with a path prefix", publicURL: "https://example.org/anavara/", src: "127.0.0.44", headers: forged,
			want: "https://example.org/anavara/api/users"},
		{name: "public URL beats a trusted proxy", publicURL: "http://10.0.0.9:8080", proxies: "127.0.0.45", src: "127.0.0.45",
			headers: [][2]string{{"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "proxy.example"}}, want: "http://10.0.0.9:8080/api/users"},
		{name: "trusted proxy's forwarded scheme and host", proxies: "127.0.0.46", src: "127.0.0.46",
			headers: [][2]string{{"Host", "evil.example"}, {"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "records.example.org"}},
			want:    "https://records.example.org/api/users"},
		{name: "trusted proxy: the values it appended, not the client's", proxies: "127.0.0.47", src: "127.0.0.47",
			headers: [][2]string{{"X-Forwarded-Proto", "javascript, https"}, {"X-Forwarded-Host", "evil.example"}, {"X-Forwarded-Host", "records.example.org:8443"}},
			want:    "https://records.example.org:8443/api/users"},
		{name: "trusted proxy: malformed values are not used", proxies: "127.0.0.48", src: "127.0.0.48",
			headers: [][2]string{{"X-Forwarded-Proto", "javascript"}, {"X-Forwarded-Host", "evil.example/x?"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, withConfig(func(c *server.Config) {
				c.PublicURL = tc.publicURL
				c.TrustedProxies = prefixes(t, tc.proxies)
			}))
			staff := h.staff("admin@example.org")
			h.signup("one@example.org")
			h.signup("two@example.org")
			base := h.serveOnLoopback()
			want := tc.want
			if want == "" {
				want = base + "/api/users"
			}
			headers := append([][2]string{{"Authorization", "Bearer " + staff.Access}}, tc.headers...)
			status, body := callFrom(t, base, tc.src, http.MethodGet, "/api/users"+query, nil, headers)
			if status != http.StatusOK {
				t.Fatalf("list: %d %s", status, body)
			}
			var p model.Page[model.User]
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Next == nil || p.Previous == nil {
				t.Fatalf("page 2 of 3 lacks a link: %s", body)
			}
			for _, link := range []string{*p.Next, *p.Previous} {
				if !strings.HasPrefix(link, want+"?") {
					t.Fatalf("link %q, want it to start %q", link, want+"?")
				}
				if strings.Contains(link, "evil") || strings.Contains(link, "javascript") {
					t.Fatalf("link %q carries a forged header", link)
				}
				if !strings.Contains(link, "search=example") || !strings.Contains(link, "page_size=1") {
					t.Fatalf("link %q lost the query", link)
				}
			}
			if !strings.Contains(*p.Next, "page=3") || !strings.Contains(*p.Previous, "page=1") {
				t.Fatalf("links %q and %q", *p.Next, *p.Previous)
			}
		})
	}
}

// TestParsePublicURL covers the --public-url setting.
func TestParsePublicURL(t *testing.T) {
	good := map[string]string{
		"":                               "",
		"https://records.example.org":    "https://records.example.org",
		"https://records.example.org/":   "https://records.example.org",
		"http://10.0.0.9:8080/anavara//": "http://10.0.0.9:8080/anavara",
		"https://[2001:db8::1]:8443/a":   "https://[2001:db8::1]:8443/a",
	}
	for in, want := range good {
		got, err := server.ParsePublicURL(in)
		if err != nil || got != want {
			t.Fatalf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"records.example.org", "javascript://evil.example/", "ftp://example.org", "https://", "https://example.org/?a=1",
		"https://example.org/#top", "https://example.org/?", "https://user:pw@example.org", "/relative", "https://exa mple.org"} {
		if _, err := server.ParsePublicURL(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
	_, err := server.New(server.Config{JWTSecret: []byte(strings.Repeat("k", 32)), PublicURL: "javascript://x"}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "public URL") {
		t.Fatalf("server.New with a bad public URL: %v", err)
	}
}
