package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/anavara/anavara/model"
)

// AccessLogQuery filters AccessLog; zero fields are omitted.
type AccessLogQuery struct {
	// Page is 1-based; PageSize is 1–100 (server default 20).
	Page     int
	PageSize int
	// ByCursor asks for a page by cursor (keyset pagination): a walk
	// that follows NextCursor never shows an item twice or skips one while
	// others are added. Cursor is a NextCursor or PreviousCursor of a page
	// by cursor of the same query (it implies ByCursor); Page stays 0.
	ByCursor bool
	Cursor   string
	// Since keeps events at or after this instant.
	Since *time.Time
	// RecordID keeps the events about that record or that served it.
	RecordID string
}

// AccessLog returns one page of a person's access log, newest first: who
// else read, listed, searched, exported, changed or deleted their records
// or their account. userID "" or "me" is the caller's own; another
// account's is for staff (a patient gets 404). Reading it is audited.
func (c *Client) AccessLog(ctx context.Context, userID string, q AccessLogQuery) (model.Page[model.AccessLogEntry], error) {
	v := url.Values{}
	setPage(v, q.Page, q.PageSize, q.ByCursor, q.Cursor)
	setString(v, "record_id", q.RecordID)
	if q.Since != nil {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	var page model.Page[model.AccessLogEntry]
	if err := c.doAuth(ctx, http.MethodGet, userPath(userID)+"/access-log", v, nil, &page); err != nil {
		return model.Page[model.AccessLogEntry]{}, fmt.Errorf("access log of %s: %w", userName(userID), err)
	}
	return page, nil
}

// userPath is the path of an account: /api/users/me for "" and "me".
func userPath(userID string) string {
	if userID == "" || userID == "me" {
		return "/api/users/me"
	}
	return "/api/users/" + url.PathEscape(userID)
}

// userName names an account in errors.
func userName(userID string) string {
	if userID == "" {
		return "me"
	}
	return userID
}
