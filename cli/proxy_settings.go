package cli

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/anavara/anavara/server"
)

// proxySettings are serve's --trusted-proxies and --public-url, read
// before anything is opened.
type proxySettings struct {
	// trusted are the reverse proxies whose X-Forwarded-For is believed
	// and which the per-address connection cap does not hold.
	trusted []netip.Prefix
	// publicURL fixes the scheme and host of the API's absolute links;
	// "" builds them from the listener.
	publicURL string
}

// parseProxySettings checks --trusted-proxies and --public-url; an error
// names the flag and its environment variable.
func parseProxySettings(f serveFlags) (proxySettings, error) {
	var p proxySettings
	var err error
	if p.trusted, err = server.ParseTrustedProxies(f.trustedProxies); err != nil {
		return p, fmt.Errorf("--trusted-proxies (%s): %w; expected CIDR prefixes or IP addresses separated by commas, e.g. 10.0.0.0/8,192.0.2.7",
			EnvName("trusted-proxies"), err)
	}
	if p.publicURL, err = server.ParsePublicURL(f.publicURL); err != nil {
		return p, fmt.Errorf("--public-url (%s): %w; expected the URL clients reach the API at, e.g. https://records.example.org",
			EnvName("public-url"), err)
	}
	return p, nil
}

// String lists the trusted proxies for the log, "none" without any.
func (p proxySettings) String() string {
	if len(p.trusted) == 0 {
		return "none"
	}
	s := make([]string, len(p.trusted))
	for i, t := range p.trusted {
		s[i] = t.String()
	}
	return strings.Join(s, ",")
}
