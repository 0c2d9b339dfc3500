package client

import (
	"context"
	"fmt"
	"net/http"
)

// Health checks that the server is up and its database answers. A server
// whose database is down answers 503, returned as an *APIError.
func (c *Client) Health(ctx context.Context) error {
	var res struct {
		Status string `json:"status"`
	}
	if err := c.do(ctx, http.MethodGet, "/healthz", nil, nil, &res); err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	if res.Status != "ok" {
		return fmt.Errorf("health check: the server reports status %q", res.Status)
	}
	return nil
}
