package server

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Optimistic concurrency. A record's or a user's response carries its row
// version (db.Store: 1 at creation, one more with every change its JSON
// shows) as a strong entity tag, ETag: "3". PUT, PATCH and DELETE accept
// If-Match with that tag (or a list of tags, or *): the version is compared
// inside the write transaction, on the row its read has locked, so two
// writers sending the same tag cannot both pass; a mismatch is 412
// (errRecordChanged, errUserChanged). Without If-Match a write goes ahead
// as it always did.

// etag is version as the strong entity tag the API sends.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// setETag sets the ETag header of the response to version's tag.
func setETag(c *fiber.Ctx, version int64) { c.Set(fiber.HeaderETag, etag(version)) }

// ifMatch is a request's If-Match precondition.
type ifMatch struct {
	// present is false when the request has no If-Match: anything matches.
	present bool
	// any is If-Match: *, which matches any existing row.
	any bool
	// tags are the opaque parts of the strong tags listed, quotes removed;
	// weak tags (W/"...") never match, as If-Match compares strongly.
	tags []string
}

// parseIfMatch reads the request's If-Match header: absent or empty, "*",
// or a comma-separated list of entity tags. Anything else is a 400
// (errBadIfMatch), answered before the row is read.
func parseIfMatch(c *fiber.Ctx) (ifMatch, error) {
	v := strings.TrimSpace(c.Get(fiber.HeaderIfMatch))
	if v == "" {
		return ifMatch{}, nil
	}
	m := ifMatch{present: true}
	if v == "*" {
		m.any = true
		return m, nil
	}
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue // an empty list element, which RFC 9110 lists allow
		}
		weak := strings.HasPrefix(part, "W/")
		if weak {
			part = part[2:]
		}
		if len(part) < 2 || part[0] != '"' || part[len(part)-1] != '"' || !validETagChars(part[1:len(part)-1]) {
			return ifMatch{}, errBadIfMatch
		}
		if !weak {
			m.tags = append(m.tags, part[1:len(part)-1])
		}
	}
	if !m.any && m.tags == nil && !strings.Contains(v, `"`) {
		return ifMatch{}, errBadIfMatch // commas alone
	}
	return m, nil
}

// validETagChars reports whether s is made of RFC 9110 etagc characters:
// visible ASCII but the double quote, and obs-text.
func validETagChars(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b == '"' || b < 0x21 || b == 0x7f {
			return false
		}
	}
	return true
}

// check answers changed unless m matches a row at version.
func (m ifMatch) check(version int64, changed error) error {
	if !m.present || m.any {
		return nil
	}
	want := strconv.FormatInt(version, 10)
	for _, t := range m.tags {
		if t == want {
			return nil
		}
	}
	return changed
}
