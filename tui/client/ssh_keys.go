package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/anavara/anavara/model"
)

// headerServiceToken carries the service credential of the SSH front end.
const headerServiceToken = "X-Service-Token"

// headerClientAddress carries, with the service credential, the address of
// the client a front end speaks for.
const headerClientAddress = "X-Anavara-Client-Address"

// ListSSHKeys returns the signed-in user's SSH keys.
func (c *Client) ListSSHKeys(ctx context.Context) ([]model.SSHKey, error) {
	var keys []model.SSHKey
	if err := c.doAuth(ctx, http.MethodGet, "/api/users/me/ssh-keys", nil, nil, &keys); err != nil {
		return nil, fmt.Errorf("list ssh keys: %w", err)
	}
	return keys, nil
}

// AddSSHKey links a public key, given as an authorized_keys line, to the
// signed-in user's account. An empty name takes the key's comment.
func (c *Client) AddSSHKey(ctx context.Context, name, authorizedKey string) (model.SSHKey, error) {
	var k model.SSHKey
	body := map[string]string{"name": name, "public_key": authorizedKey}
	if err := c.doAuth(ctx, http.MethodPost, "/api/users/me/ssh-keys", nil, body, &k); err != nil {
		return model.SSHKey{}, fmt.Errorf("add ssh key: %w", err)
	}
	return k, nil
}

// DeleteSSHKey unlinks one of the signed-in user's SSH keys.
func (c *Client) DeleteSSHKey(ctx context.Context, id string) error {
	if err := c.doAuth(ctx, http.MethodDelete, "/api/users/me/ssh-keys/"+url.PathEscape(id), nil, nil, nil); err != nil {
		return fmt.Errorf("delete ssh key %s: %w", id, err)
	}
	return nil
}

// LoginWithSSHKey exchanges the fingerprint of an SSH key whose possession
// the caller has verified for its owner's token pair, which the client then
// holds. Only trusted front ends hold serviceToken. A key no account has is
// an *APIError with status 404.
func (c *Client) LoginWithSSHKey(ctx context.Context, serviceToken, fingerprint string) (model.AuthResponse, error) {
	r, err := newRequest(http.MethodPost, "/api/auth/ssh-login", nil, map[string]string{"fingerprint": fingerprint})
	if err != nil {
		return model.AuthResponse{}, err
	}
	r.header = http.Header{headerServiceToken: {serviceToken}}
	var res model.AuthResponse
	if err := c.send(ctx, r, "", &res); err != nil {
		return model.AuthResponse{}, fmt.Errorf("ssh login: %w", err)
	}
	c.adopt(ctx, model.TokenPair{AccessToken: res.AccessToken, RefreshToken: res.RefreshToken})
	return res, nil
}

// SSHKeyKnown reports whether the key with fingerprint belongs to an active
// account. Trusted front ends use it during the SSH handshake, before the
// client has proved it holds the key; it signs nobody in.
func (c *Client) SSHKeyKnown(ctx context.Context, serviceToken, fingerprint string) (bool, error) {
	r, err := newRequest(http.MethodPost, "/api/auth/ssh-key-check", nil, map[string]string{"fingerprint": fingerprint})
	if err != nil {
		return false, err
	}
	r.header = http.Header{headerServiceToken: {serviceToken}}
	err = c.send(ctx, r, "", nil)
	switch {
	case err == nil:
		return true, nil
	case IsStatus(err, http.StatusNotFound):
		return false, nil
	}
	return false, fmt.Errorf("ssh key check: %w", err)
}

// AdmitSSHConnection counts a new SSH connection from clientAddress (an IP
// address) against the API's per-address connection limit, which every
// front end and API instance on one PostgreSQL database shares, and
// reports whether the connection may go on; when it may not, retryAfter
// says when the address may connect again. Front ends without a database
// of their own (ssh-serve) call it for every connection; only they hold
// serviceToken. An error means the API gave no answer on the limit.
func (c *Client) AdmitSSHConnection(ctx context.Context, serviceToken, clientAddress string) (allowed bool, retryAfter time.Duration, err error) {
	r, err := newRequest(http.MethodPost, "/api/auth/ssh-connection", nil, nil)
	if err != nil {
		return false, 0, err
	}
	r.header = http.Header{headerServiceToken: {serviceToken}, headerClientAddress: {clientAddress}}
	err = c.send(ctx, r, "", nil)
	var apiErr *APIError
	switch {
	case err == nil:
		return true, 0, nil
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests:
		return false, apiErr.RetryAfter, nil
	}
	return false, 0, fmt.Errorf("ssh connection check: %w", err)
}
