package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/anavara/anavara/model"
)

// AuditQuery filters ListAuditEvents; zero fields are omitted.
type AuditQuery struct {
	// Page is 1-based; PageSize is 1–100 (server default 20).
	Page     int
	PageSize int
	// ByCursor asks for a page by cursor (keyset pagination): a walk
	// that follows NextCursor never shows an item twice or skips one while
	// others are added. Cursor is a NextCursor or PreviousCursor of a page
	// by cursor of the same query (it implies ByCursor); Page stays 0.
	ByCursor bool
	Cursor   string
	// ActorID and EntityID are user or record ids; Action is one of the
	// model.Action* constants.
	ActorID  string
	EntityID string
	Action   string
	// Since keeps events at or after this instant.
	Since *time.Time
}

// ListAuditEvents returns one page of the audit trail, newest first (staff
// only; others get 403).
func (c *Client) ListAuditEvents(ctx context.Context, q AuditQuery) (model.Page[model.AuditEvent], error) {
	v := url.Values{}
	setPage(v, q.Page, q.PageSize, q.ByCursor, q.Cursor)
	setString(v, "actor_id", q.ActorID)
	setString(v, "entity_id", q.EntityID)
	setString(v, "action", q.Action)
	if q.Since != nil {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	var page model.Page[model.AuditEvent]
	if err := c.doAuth(ctx, http.MethodGet, "/api/audit-events", v, nil, &page); err != nil {
		return model.Page[model.AuditEvent]{}, fmt.Errorf("list audit events: %w", err)
	}
	return page, nil
}
