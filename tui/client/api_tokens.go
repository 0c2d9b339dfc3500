package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/anavara/anavara/model"
)

// APITokenQuery pages ListAPITokens; zero fields are omitted.
type APITokenQuery struct {
	// Page is 1-based; PageSize is 1–100 (server default 20).
	Page     int
	PageSize int
}

// CreateAPITokenRequest is a personal access token to issue.
type CreateAPITokenRequest struct {
	Name   string
	Scopes []string
	// ExpiresInDays is 1–365; 0 leaves it to the server's default
	// (model.DefaultAPITokenDays).
	ExpiresInDays int
}

// ListAPITokens returns one page of the signed-in user's API tokens that
// are not revoked, newest first: never their secrets.
func (c *Client) ListAPITokens(ctx context.Context, q APITokenQuery) (model.Page[model.APIToken], error) {
	return c.listAPITokens(ctx, "", q)
}

// ListUserAPITokens returns one page of another account's API tokens
// (staff only; anyone else gets 404).
func (c *Client) ListUserAPITokens(ctx context.Context, userID string, q APITokenQuery) (model.Page[model.APIToken], error) {
	return c.listAPITokens(ctx, userID, q)
}

// listAPITokens lists the tokens of userID ("" is the caller's own).
func (c *Client) listAPITokens(ctx context.Context, userID string, q APITokenQuery) (model.Page[model.APIToken], error) {
	v := url.Values{}
	setPage(v, q.Page, q.PageSize, false, "")
	var page model.Page[model.APIToken]
	if err := c.doAuth(ctx, http.MethodGet, userPath(userID)+"/tokens", v, nil, &page); err != nil {
		return model.Page[model.APIToken]{}, fmt.Errorf("list api tokens of %s: %w", userName(userID), err)
	}
	return page, nil
}

// CreateAPIToken issues a token of the signed-in user's account. The
// answer carries the token's secret, which the server shows only this
// once. Only a session may create tokens: a client signed in with an API
// token gets 403.
func (c *Client) CreateAPIToken(ctx context.Context, r CreateAPITokenRequest) (model.NewAPIToken, error) {
	body := struct {
		Name          string   `json:"name"`
		Scopes        []string `json:"scopes"`
		ExpiresInDays int      `json:"expires_in_days,omitempty"`
	}{r.Name, r.Scopes, r.ExpiresInDays}
	if body.Scopes == nil {
		// An empty list is the caller's choice to send, not a missing field.
		body.Scopes = []string{}
	}
	var t model.NewAPIToken
	if err := c.doAuth(ctx, http.MethodPost, "/api/users/me/tokens", nil, body, &t); err != nil {
		return model.NewAPIToken{}, fmt.Errorf("create api token: %w", err)
	}
	return t, nil
}

// RevokeAPIToken revokes one of the signed-in user's tokens; it stops
// authenticating at once. A token the account does not have, or has
// revoked already, is 404.
func (c *Client) RevokeAPIToken(ctx context.Context, tokenID string) error {
	return c.revokeAPIToken(ctx, "", tokenID)
}

// RevokeUserAPIToken revokes one of another account's tokens (staff only).
func (c *Client) RevokeUserAPIToken(ctx context.Context, userID, tokenID string) error {
	return c.revokeAPIToken(ctx, userID, tokenID)
}

// revokeAPIToken revokes a token of userID ("" is the caller's own).
func (c *Client) revokeAPIToken(ctx context.Context, userID, tokenID string) error {
	if err := c.doAuth(ctx, http.MethodDelete, userPath(userID)+"/tokens/"+url.PathEscape(tokenID), nil, nil, nil); err != nil {
		return fmt.Errorf("revoke api token %s of %s: %w", tokenID, userName(userID), err)
	}
	return nil
}
