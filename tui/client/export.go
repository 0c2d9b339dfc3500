package client

import (
	"context"

	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Export formats (the format query parameter of the export endpoints).
const (
	// ExportFHIR is FHIR R4 NDJSON: the Patient, a Condition and a
	// Procedure per record, and the access log as AuditEvents.
	ExportFHIR = "fhir"
	// ExportCSV is the records as CSV with a header row.
	ExportCSV = "csv"
)

// Export is a person's data as the server streams it.
type Export struct {
	// Body is the data, read as it arrives; the caller must close it.
	Body io.ReadCloser
	// ContentType is the answer's media type, e.g. application/fhir+ndjson.
	ContentType string
	// FileName is the file name the server suggests (Content-Disposition),
	// "" when it suggests none or one that is not a plain file name (a
	// path, a name with control characters).
	FileName string
}

// Export streams all of a person's data in format (ExportFHIR, or
// ExportCSV; "" is the server's default, FHIR). userID "" or "me" is the
// caller's own; another account's is for staff (a patient gets 404). The
// per-request timeout bounds the wait for the answer to begin; reading
// Body is bounded by ctx alone, since an export takes as long as it is
// long. Every export is audited.
func (c *Client) Export(ctx context.Context, userID, format string) (*Export, error) {
	v := url.Values{}
	setString(v, "format", format)
	r := request{method: http.MethodGet, path: userPath(userID) + "/export", query: v,
		header: http.Header{"Accept": {"application/fhir+ndjson, text/csv;q=0.9, application/json;q=0.5"}}}
	var res *http.Response
	err := c.withAuth(ctx, func(access string) error {
		var err error
		res, err = c.openStream(ctx, r, access)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("export the data of %s: %w", userName(userID), err)
	}
	ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	return &Export{Body: res.Body, ContentType: ct, FileName: attachmentName(res.Header.Get("Content-Disposition"))}, nil
}

// openStream sends r and returns a 2xx answer with its body unread; the
// body's Close also ends the request's context. Any other answer is an
// *APIError, its body read and closed.
func (c *Client) openStream(ctx context.Context, r request, access string) (*http.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	// Cancelling sctx after the headers arrived would cut the body too,
	// so the timer that bounds the wait for them is stopped then.
	timer := time.AfterFunc(c.timeout, cancel)
	res, err := c.roundTrip(ctx, sctx, c.stream, r, access)
	if !timer.Stop() && ctx.Err() == nil {
		// As send reports a request that timed out: no answer in time.
		if err == nil {
			res.Body.Close()
		}
		err = &UnreachableError{URL: c.base, Err: fmt.Errorf("no answer within %s: %w", c.timeout, context.DeadlineExceeded)}
	}
	if err != nil {
		cancel()
		return nil, err
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		defer cancel()
		defer res.Body.Close()
		data, err := readCapped(res.Body)
		if err != nil {
			return nil, fmt.Errorf("read response (HTTP %d): %w", res.StatusCode, err)
		}
		return nil, newAPIError(res, data)
	}
	res.Body = &streamBody{ReadCloser: res.Body, cancel: cancel}
	return res, nil
}

// streamBody is a streamed answer's body, whose Close also releases the
// request's context.
type streamBody struct {
	io.ReadCloser
	cancel context.CancelFunc
	once   sync.Once
}

// Close closes the body and ends the request.
func (b *streamBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.cancel)
	return err
}

// attachmentName is the file name of a Content-Disposition header, "" when
// it has none or one that is not a plain file name: the server's
// suggestion must not choose a directory or carry terminal controls.
func attachmentName(header string) string {
	_, params, err := mime.ParseMediaType(header)
	if err != nil {
		return ""
	}
	name := params["filename"]
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return ""
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return ""
		}
	}
	return name
}
