package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/anavara/anavara/model"
)

// maxResponseBytes caps how much of a response body is read.
const maxResponseBytes = 4 << 20

// userAgent identifies the client to the server's logs.
const userAgent = "anavara-client/1"

// request is one API call: the parts that stay the same when it is retried
// after a token refresh.
type request struct {
	method string
	path   string      // below the base URL, starting with "/"
	query  url.Values  // may be nil
	body   []byte      // JSON, or nil for no body
	header http.Header // extra headers, e.g. a service credential
}

// newRequest builds a request, encoding in as the JSON body when it is not
// nil.
func newRequest(method, path string, query url.Values, in any) (request, error) {
	r := request{method: method, path: path, query: query}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return r, fmt.Errorf("encode request body: %w", err)
		}
		r.body = b
	}
	return r, nil
}

// send performs r once with the access token (none when empty) and decodes
// a 2xx answer into out (skipped when out is nil or there is no body).
// A non-2xx answer is an *APIError; no answer at all an *UnreachableError.
func (c *Client) send(ctx context.Context, r request, access string, out any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res, err := c.roundTrip(ctx, rctx, c.http, r, access)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := readCapped(res.Body)
	if err != nil {
		return fmt.Errorf("read response (HTTP %d): %w", res.StatusCode, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return newAPIError(res, data)
	}
	if out == nil || res.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode response (HTTP %d): %w", res.StatusCode, err)
	}
	// A record's or an account's version is not in its JSON but in the
	// ETag; an answer without one leaves Version 0 (send no If-Match).
	if v, ok := parseETag(res.Header.Get("ETag")); ok {
		switch o := out.(type) {
		case *model.MedicalRecord:
			o.Version = v
		case *model.User:
			o.Version = v
		}
	}
	return nil
}

// roundTrip sends r with the access token (none when empty) through hc
// under rctx and returns the answer, whatever its status. ctx is the
// caller's own context (rctx derives from it), to tell a caller giving up
// from a server that does not answer.
func (c *Client) roundTrip(ctx, rctx context.Context, hc *http.Client, r request, access string) (*http.Response, error) {
	target := c.base + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(rctx, r.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if access != "" {
		req.Header.Set("Authorization", "Bearer "+access)
	}
	for k, vs := range c.forward {
		req.Header[k] = vs
	}
	// A request's own headers win: ssh-login sends the service token it
	// was given.
	for k, vs := range r.header {
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}

	res, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			// The caller gave up; that is not the server's fault.
			return nil, err
		}
		return nil, &UnreachableError{URL: c.base, Err: err}
	}
	return res, nil
}

// ETag is version as the entity tag the server sends and If-Match takes.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// parseETag reads a version from an ETag header, "3" with its quotes.
func parseETag(s string) (int64, bool) {
	if len(s) < 3 || s[0] != '"' || s[len(s)-1] != '"' {
		return 0, false
	}
	v, err := strconv.ParseInt(s[1:len(s)-1], 10, 64)
	if err != nil || v < 1 {
		return 0, false
	}
	return v, true
}

// readCapped reads a response body of at most maxResponseBytes.
func readCapped(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxResponseBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxResponseBytes {
		return nil, fmt.Errorf("response body larger than %d bytes", maxResponseBytes)
	}
	return data, nil
}

// newAPIError turns a non-2xx answer into an *APIError, reading the
// standard {message, errors} body when there is one.
func newAPIError(res *http.Response, data []byte) *APIError {
	e := &APIError{Status: res.StatusCode}
	if res.Request != nil && res.Request.URL != nil {
		e.Path = res.Request.URL.Path
	}
	var body model.ErrorBody
	if json.Unmarshal(data, &body) == nil {
		e.Message, e.Fields = body.Message, body.Errors
	}
	if e.Message == "" {
		e.Message = http.StatusText(res.StatusCode)
		if e.Message == "" {
			e.Message = strings.TrimSpace(res.Status)
		}
	}
	if res.StatusCode == http.StatusTooManyRequests {
		e.RetryAfter = parseRetryAfter(res.Header.Get("Retry-After"), time.Now())
	}
	return e
}

// do performs an unauthenticated call.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	r, err := newRequest(method, path, query, in)
	if err != nil {
		return err
	}
	return c.send(ctx, r, "", out)
}
