package server

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/model"
)

// pageRequest is a validated page and page size.
type pageRequest struct {
	number int
	size   int
}

func (p pageRequest) offset() int { return (p.number - 1) * p.size }

// parsePage reads ?page and ?page_size, recording problems in errs.
func parsePage(c *fiber.Ctx, errs *model.FieldErrors) pageRequest {
	p := pageRequest{number: 1, size: model.DefaultPageSize}
	if v := c.Query("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs.Add("page", model.MsgPageNumber)
		} else {
			p.number = n
		}
	}
	if v := c.Query("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < model.MinPageSize || n > model.MaxPageSize {
			errs.Add("page_size", model.MsgPageSize)
		} else {
			p.size = n
		}
	}
	return p
}

// newPage wraps one page of results with the total count and absolute links
// to its neighbours (see Server.linkBase). A page past the end is an error;
// page 1 of nothing is an empty page.
func newPage[T any](s *Server, c *fiber.Ctx, p pageRequest, results []T, count int) (model.Page[T], error) {
	pages := model.PageCount(count, p.size)
	if p.number > pages {
		return model.Page[T]{}, errInvalidPage
	}
	page := model.Page[T]{Count: count, NumberOfPages: pages, Results: results}
	if page.Results == nil {
		page.Results = []T{}
	}
	if p.number < pages {
		page.Next = pageLink(c, s.linkBase(c), p.number+1)
	}
	if p.number > 1 {
		page.Previous = pageLink(c, s.linkBase(c), p.number-1)
	}
	return page, nil
}

// pageLink is the URL of this request below base with its page replaced.
func pageLink(c *fiber.Ctx, base string, number int) *string {
	q, _ := url.ParseQuery(string(c.Request().URI().QueryString()))
	q.Set("page", strconv.Itoa(number))
	link := base + c.Path() + "?" + q.Encode()
	return &link
}

// linkBase is the scheme and host (and any path prefix) of absolute
// links: --public-url when set; else, from a trusted proxy, the last
// X-Forwarded-Proto and X-Forwarded-Host values (those the nearest proxy
// added) when they are well formed; else the address of the listener the
// request reached. The Host header and every X-Forwarded-* header of a
// client that is not a trusted proxy are never used: a link must not
// point wherever the client says (javascript://evil.example/).
func (s *Server) linkBase(c *fiber.Ctx) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	scheme := "http"
	if c.Context().IsTLS() {
		scheme = "https"
	}
	host := c.Context().LocalAddr().String()
	if viaTrustedProxy(c) {
		if p := strings.ToLower(lastValue(c, fiber.HeaderXForwardedProto)); p == "http" || p == "https" {
			scheme = p
		}
		if h := lastValue(c, fiber.HeaderXForwardedHost); validHost(h) {
			host = h
		}
	}
	return scheme + "://" + host
}

// lastValue is the rightmost comma-separated value of header over all its
// lines, trimmed; "" when it is absent.
func lastValue(c *fiber.Ctx, header string) string {
	lines := c.Request().Header.PeekAll(header)
	if len(lines) == 0 {
		return ""
	}
	line := string(lines[len(lines)-1])
	if i := strings.LastIndexByte(line, ','); i >= 0 {
		line = line[i+1:]
	}
	return strings.TrimSpace(line)
}

// ParsePublicURL checks the --public-url setting, an absolute http or
// https URL with no query or fragment, maybe with a path prefix, and
// returns it without a trailing slash, ready to have request paths
// appended. The empty setting is returned as is.
func ParsePublicURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%q: want an absolute http:// or https:// URL", raw)
	}
	if u.Host == "" || !validHost(u.Host) {
		return "", fmt.Errorf("%q: no valid host", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("%q: must not carry user information", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || strings.HasSuffix(raw, "#") {
		return "", fmt.Errorf("%q: must not have a query or fragment", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}
