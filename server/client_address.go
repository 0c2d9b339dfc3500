package server

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/model"
)

// HeaderClientAddress carries, from a service caller (the SSH front end,
// which also sends HeaderServiceToken), the address of the client it acts
// for: one IP literal.
const HeaderClientAddress = "X-Anavara-Client-Address"

// headerForwardedFor is the address chain reverse proxies append to.
const headerForwardedFor = "X-Forwarded-For"

// localOrigin holds the request's origin once the middleware computed it.
const localOrigin = "origin"

// origin is where a request came from.
type origin struct {
	// ip is the client address the audit log and the rate limits use.
	ip string
	// viaProxy is true when the socket peer is a trusted proxy, whose
	// X-Forwarded-* headers may then shape links.
	viaProxy bool
	// viaSSH is true when the SSH front end speaks for its session's
	// client: the audit trail records the request as via SSH.
	viaSSH bool
}

// errBadClientAddress answers a service call whose client address is not
// one IP literal.
var errBadClientAddress = newError(fiber.StatusBadRequest, "Malformed "+HeaderClientAddress+" header: send one IP address.")

// clientOrigin computes the request's client address once, before any
// handler reads it, by the rules of resolveOrigin.
func (s *Server) clientOrigin(c *fiber.Ctx) error {
	o, err := s.resolveOrigin(c)
	if err != nil {
		return err
	}
	c.Locals(localOrigin, o)
	return c.Next()
}

// resolveOrigin is, in order: the address a caller holding a valid
// service credential forwards in HeaderClientAddress (it is the SSH front
// end speaking for its session's client); else, when the socket peer is
// a trusted proxy, the nearest address in X-Forwarded-For that is not
// itself a trusted proxy; else the socket peer. HeaderClientAddress
// without a valid service credential is ignored, never trusted nor
// refused, so that an ordinary client learns nothing from sending it.
func (s *Server) resolveOrigin(c *fiber.Ctx) (origin, error) {
	peer := peerAddr(c)
	if fwd := c.Get(HeaderClientAddress); fwd != "" {
		if tok := c.Get(HeaderServiceToken); tok != "" && auth.ServiceTokenValid(s.cfg.ServiceTokens, tok) {
			a, err := parseIP(fwd)
			if err != nil {
				return origin{}, errBadClientAddress
			}
			return origin{ip: a.String(), viaSSH: true}, nil
		}
	}
	if !s.trustedProxy(peer) {
		return origin{ip: addrString(peer)}, nil
	}
	return origin{ip: addrString(s.forwardedClient(c, peer)), viaProxy: true}, nil
}

// forwardedClient walks X-Forwarded-For (every header line, each a comma
// separated list) from the right, the end the nearest proxy appended to:
// addresses of trusted proxies are skipped, and the first other address
// is the client. The left end is whatever the client sent, so a malformed
// entry stops the walk at the last address that was good, and a chain of
// nothing but trusted proxies gives its leftmost.
func (s *Server) forwardedClient(c *fiber.Ctx, peer netip.Addr) netip.Addr {
	var entries []string
	for _, line := range c.Request().Header.PeekAll(headerForwardedFor) {
		entries = append(entries, strings.Split(string(line), ",")...)
	}
	client := peer
	for i := len(entries) - 1; i >= 0; i-- {
		a, err := parseIP(entries[i])
		if err != nil {
			return client
		}
		client = a
		if !s.trustedProxy(a) {
			return a
		}
	}
	return client
}

// trustedProxy reports whether a is inside a --trusted-proxies prefix.
func (s *Server) trustedProxy(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the request's client address (see resolveOrigin). A request
// refused before the middleware ran is the socket peer's.
func clientIP(c *fiber.Ctx) string {
	if o, ok := c.Locals(localOrigin).(origin); ok {
		return o.ip
	}
	return addrString(peerAddr(c))
}

// clientVia is how the request arrived, for its audit events: over SSH
// when the SSH front end speaks for its client, else the API.
func clientVia(c *fiber.Ctx) string {
	if o, ok := c.Locals(localOrigin).(origin); ok && o.viaSSH {
		return model.ViaSSH
	}
	return model.ViaAPI
}

// viaTrustedProxy reports whether the request's socket peer is a trusted
// proxy.
func viaTrustedProxy(c *fiber.Ctx) bool {
	o, ok := c.Locals(localOrigin).(origin)
	return ok && o.viaProxy
}

// peerAddr is the socket peer's address, IPv4 unmapped, without a zone.
func peerAddr(c *fiber.Ctx) netip.Addr {
	a, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	return a.Unmap().WithZone("")
}

// addrString is a's text, as the audit log and the limiter keys hold it.
func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return "0.0.0.0"
	}
	return a.String()
}

// parseIP reads one IP literal without a zone (a zone names an interface
// of the sender, meaningless here), surrounding white space allowed; IPv4
// mapped into IPv6 is unmapped, so that one client has one text.
func parseIP(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Addr{}, err
	}
	if a.Zone() != "" {
		return netip.Addr{}, errors.New("an IP address with a zone")
	}
	return a.Unmap(), nil
}

// ParseTrustedProxies reads the --trusted-proxies setting: CIDR prefixes
// or bare IP addresses (one address each), separated by commas. An empty
// setting trusts no proxy.
func ParseTrustedProxies(setting string) ([]netip.Prefix, error) {
	if strings.TrimSpace(setting) == "" {
		return nil, nil
	}
	var out []netip.Prefix
	for _, item := range strings.Split(setting, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, errors.New("an empty entry (entries are separated by single commas)")
		}
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR prefix such as 10.0.0.0/8 or fd00::/8", item)
			}
			if p.Addr().Is4In6() {
				return nil, fmt.Errorf("%q: write IPv4 prefixes in IPv4 form", item)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := parseIP(item)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR prefix", item)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// validHost reports whether h is a host name or IP literal with an
// optional port, fit to put in a link.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		host, port = h, ""
		if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
			host = h[1 : len(h)-1]
		}
	}
	if port != "" {
		for _, r := range port {
			if r < '0' || r > '9' {
				return false
			}
		}
		if len(port) > 5 {
			return false
		}
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Zone() == "" && (a.Is4() || strings.HasPrefix(h, "["))
	}
	for _, r := range host {
		ok := r == '.' || r == '-' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !ok {
			return false
		}
	}
	return host != "" && !strings.HasPrefix(host, "-") && !strings.HasPrefix(host, ".")
}
