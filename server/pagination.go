package server

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// pageRequest is a validated page request: by number (page, page_size),
// or by cursor (paginate=cursor, cursor, page_size).
type pageRequest struct {
	number int
	size   int
	// byCursor is set for a page by cursor: ?paginate=cursor, or a
	// ?cursor, which implies it.
	byCursor bool
	// cursor is the ?cursor sent, "" on a first page by cursor, until
	// openCursor turns it into seek.
	cursor string
	seek   *db.Seek
	// bind names the list and filters the page's cursors are for.
	bind [8]byte
}

// offset is where a page by number starts; a page by cursor starts at
// its position instead.
func (p pageRequest) offset() int {
	if p.byCursor {
		return 0
	}
	return (p.number - 1) * p.size
}

// limit is how many rows to ask the store for: a page by cursor asks for
// one more, which tells whether another page lies beyond it (trimPage).
func (p pageRequest) limit() int {
	if p.byCursor {
		return p.size + 1
	}
	return p.size
}

// parsePage reads ?page, ?page_size, ?paginate and ?cursor, recording
// problems in errs. Page numbers and cursors do not mix.
func parsePage(c *fiber.Ctx, errs *model.FieldErrors) pageRequest {
	p := pageRequest{number: 1, size: model.DefaultPageSize}
	args := c.Context().QueryArgs()
	switch mode := c.Query("paginate"); {
	case !args.Has("paginate") || mode == model.PaginatePage:
	case mode == model.PaginateCursor:
		p.byCursor = true
	default:
		errs.Add("paginate", model.MsgPaginate)
	}
	if args.Has("cursor") {
		if c.Query("paginate") == model.PaginatePage {
			errs.Add("cursor", model.MsgCursorMode)
		}
		p.byCursor, p.cursor = true, c.Query("cursor")
		if p.cursor == "" {
			// An empty next_cursor pasted in would otherwise start the
			// walk again from the top, forever.
			errs.Add("cursor", model.MsgCursorInvalid)
		}
	}
	if v := c.Query("page"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case p.byCursor:
			errs.Add("page", model.MsgPageWithCursor)
		case err != nil || n < 1:
			errs.Add("page", model.MsgPageNumber)
		default:
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

// openCursor binds a page by cursor to its list (cursorBind of the list
// and the filters as applied) and opens its cursor, if any, into p.seek:
// a 400 naming cursor when it is not a cursor of this server, or was made
// for another list, other filters or another ordering. A page by number
// is left as it is.
func (s *Server) openCursor(p *pageRequest, list string, parts ...string) error {
	if !p.byCursor {
		return nil
	}
	p.bind = cursorBind(list, parts...)
	if p.cursor == "" {
		return nil
	}
	var errs model.FieldErrors
	bind, seek, err := s.cursors.open(p.cursor)
	switch {
	case err != nil:
		errs.Add("cursor", model.MsgCursorInvalid)
	case bind != p.bind:
		errs.Add("cursor", model.MsgCursorOtherList)
	default:
		p.seek = &seek
	}
	return errs.Err()
}

// trimPage cuts the row past a page by cursor (limit) and reports whether
// there was one: for a page after a position, the last; for one before, the
// first, since the store returns rows in the list's order either way.
func trimPage[T any](p pageRequest, rows []T) ([]T, bool) {
	if !p.byCursor || len(rows) <= p.size {
		return rows, false
	}
	if p.seek != nil && p.seek.Backward {
		return rows[len(rows)-p.size:], true
	}
	return rows[:p.size], true
}

// newPage wraps one page of results with the total count and absolute links
// to its neighbours (see Server.linkBase). A page past the end is an error;
// page 1 of nothing is an empty page. A page by cursor is newCursorPage's.
func newPage[T any](s *Server, c *fiber.Ctx, p pageRequest, results []T, count int, more bool, pos func(T) db.Position) (model.Page[T], error) {
	if results == nil {
		results = []T{}
	}
	if p.byCursor {
		return newCursorPage(s, c, p, results, count, more, pos)
	}
	pages := model.PageCount(count, p.size)
	if p.number > pages {
		return model.Page[T]{}, errInvalidPage
	}
	page := model.Page[T]{Count: count, NumberOfPages: pages, Results: results}
	if p.number < pages {
		page.Next = pageLink(c, s.linkBase(c), p.number+1)
	}
	if p.number > 1 {
		page.Previous = pageLink(c, s.linkBase(c), p.number-1)
	}
	return page, nil
}

// newCursorPage is a page by cursor: next and previous carry the
// cursors of the pages after its last row and before its first, where
// there are rows (more says whether the store had one past the page, in
// the direction it went; the other way, a page reached by a cursor always
// has one, the row the cursor started from). An empty page reached by a
// cursor, whose rows were deleted since, links to the first page the way
// it came from.
func newCursorPage[T any](s *Server, c *fiber.Ctx, p pageRequest, results []T, count int, more bool, pos func(T) db.Position) (model.Page[T], error) {
	page := model.Page[T]{Count: count, Cursors: &model.Cursors{}, Results: results}
	base := s.linkBase(c)
	backward := p.seek != nil && p.seek.Backward
	if len(results) == 0 {
		if p.seek != nil {
			first := cursorLink(c, base, "")
			if backward {
				page.Next = first
			} else {
				page.Previous = first
			}
		}
		return page, nil
	}
	link := func(at T, back bool) (*string, *string, error) {
		cursor, err := s.cursors.seal(p.bind, db.Seek{Position: pos(at), Backward: back})
		if err != nil {
			return nil, nil, err
		}
		return cursorLink(c, base, cursor), &cursor, nil
	}
	var err error
	if (!backward && more) || backward {
		if page.Next, page.NextCursor, err = link(results[len(results)-1], false); err != nil {
			return page, err
		}
	}
	if (backward && more) || (!backward && p.seek != nil) {
		if page.Previous, page.PreviousCursor, err = link(results[0], true); err != nil {
			return page, err
		}
	}
	return page, nil
}

// cursorLink is the URL of this request below base with its cursor
// replaced, or removed (a first page by cursor) when cursor is "".
func cursorLink(c *fiber.Ctx, base, cursor string) *string {
	q, _ := url.ParseQuery(string(c.Request().URI().QueryString()))
	q.Del("page")
	if cursor == "" {
		q.Del("cursor")
		q.Set("paginate", model.PaginateCursor)
	} else {
		q.Set("cursor", cursor)
	}
	link := base + c.Path() + "?" + q.Encode()
	return &link
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
