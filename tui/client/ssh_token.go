package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/anavara/anavara/model"
)

// SSHToken mints a short-lived access token (model.SSHTokenTTL) for the
// owner of the SSH key with fingerprint, which the caller has verified,
// narrowed to scopes (none: every scope the account has). Only trusted
// front ends hold serviceToken. The client does not adopt the token: it
// is for the script that asked. A key no account has is an *APIError
// with status 404, a deactivated account's 401, an unknown scope a 400.
func (c *Client) SSHToken(ctx context.Context, serviceToken, fingerprint string, scopes []string) (model.ScopedAccessToken, error) {
	body := map[string]any{"fingerprint": fingerprint}
	if len(scopes) > 0 {
		body["scopes"] = scopes
	}
	r, err := newRequest(http.MethodPost, "/api/auth/ssh-token", nil, body)
	if err != nil {
		return model.ScopedAccessToken{}, err
	}
	r.header = http.Header{headerServiceToken: {serviceToken}}
	var res model.ScopedAccessToken
	if err := c.send(ctx, r, "", &res); err != nil {
		return model.ScopedAccessToken{}, fmt.Errorf("ssh token: %w", err)
	}
	return res, nil
}
