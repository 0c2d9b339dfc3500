package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/password"
)

// apiError is an error with the status and client-safe message to answer.
type apiError struct {
	status     int
	message    string
	fields     *model.FieldErrors
	retryAfter time.Duration
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.message) }

// errorf returns an apiError answering status with message.
func newError(status int, message string) *apiError {
	return &apiError{status: status, message: message}
}

// fieldError returns a 400 naming one field.
func fieldError(field, msg string) *apiError {
	var fe model.FieldErrors
	fe.Add(field, msg)
	return &apiError{status: fiber.StatusBadRequest, message: msg, fields: &fe}
}

// Common client-facing errors.
var (
	errNotFound        = newError(fiber.StatusNotFound, "Not found.")
	errForbidden       = newError(fiber.StatusForbidden, "You do not have permission to perform this action.")
	errNoCredentials   = newError(fiber.StatusUnauthorized, "Authentication credentials were not provided.")
	errBadToken        = newError(fiber.StatusUnauthorized, "Invalid or expired access token.")
	errBadLogin        = newError(fiber.StatusUnauthorized, "Invalid email or password")
	errBadRefresh      = newError(fiber.StatusUnauthorized, "Invalid or expired refresh token.")
	errBadCode         = newError(fiber.StatusBadRequest, "Invalid or expired code")
	errInvalidPage     = newError(fiber.StatusNotFound, "Invalid page.")
	errBadServiceToken = newError(fiber.StatusUnauthorized, "Invalid service credential.")
	// The If-Match preconditions (etag.go): a version the row no longer
	// has, and a header that is no list of entity tags.
	errRecordChanged = newError(fiber.StatusPreconditionFailed, model.MsgRecordChanged)
	errUserChanged   = newError(fiber.StatusPreconditionFailed, model.MsgUserChanged)
	errBadIfMatch    = newError(fiber.StatusBadRequest, model.MsgBadIfMatch)
)

// msgBusy answers a request that could not get a password-hashing slot in
// time; busyRetryAfterSeconds is the Retry-After that goes with it.
const (
	msgBusy               = "The server is busy. Please try again in a few seconds."
	busyRetryAfterSeconds = 2
)

func tooManyRequests(retry time.Duration) *apiError {
	return &apiError{status: fiber.StatusTooManyRequests, message: "Too many requests. Try again later.", retryAfter: retry}
}

// handleError is the single place where errors become HTTP responses.
// Internal errors are logged with the request id and answered with a bare 500.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	ensureRequestID(c)
	body := model.ErrorBody{}
	status := fiber.StatusInternalServerError

	var ae *apiError
	var fe *model.FieldErrors
	var fiberErr *fiber.Error
	switch {
	case errors.As(err, &ae):
		status, body.Message = ae.status, ae.message
		if ae.fields != nil && !ae.fields.Empty() {
			body.Errors = ae.fields.Map()
			body.Message = ae.fields.First()
		}
		if ae.retryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int((ae.retryAfter+time.Second-1)/time.Second)))
		}
	case errors.As(err, &fe):
		status, body.Message, body.Errors = fiber.StatusBadRequest, fe.First(), fe.Map()
	case errors.Is(err, password.ErrBusy):
		status, body.Message = fiber.StatusServiceUnavailable, msgBusy
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(busyRetryAfterSeconds))
	case errors.Is(err, db.ErrNotFound):
		status, body.Message = fiber.StatusNotFound, errNotFound.message
	case errors.Is(err, auth.ErrTooManyAPITokens):
		status, body.Message = fiber.StatusConflict, model.MsgTooManyAPITokens
	case errors.As(err, &fiberErr):
		status = fiberErr.Code
		switch status {
		case fiber.StatusNotFound:
			body.Message = errNotFound.message
		case fiber.StatusMethodNotAllowed:
			body.Message = "Method not allowed."
		case fiber.StatusRequestEntityTooLarge:
			body.Message = "Request body too large: the limit is 1 MiB."
		case fiber.StatusInternalServerError:
			s.cfg.Logger.Error("request failed", "request_id", requestID(c), "method", c.Method(), "path", c.Path(), "error", err)
			body.Message = "Internal server error"
		default:
			// fasthttp's parse errors (a bad Content-Length, a malformed
			// header line) quote the raw request, Authorization and
			// Cookie headers included: answer with the status alone.
			body.Message = fixedMessage(status)
		}
	default:
		s.cfg.Logger.Error("request failed", "request_id", requestID(c), "method", c.Method(), "path", c.Path(), "error", err)
		body.Message = "Internal server error"
		// A read that met a corrupt page, say, makes /healthz say so.
		s.db.Observe(err)
	}
	if status == fiber.StatusUnauthorized {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="anavara"`)
	}
	return c.Status(status).JSON(body)
}

// fixedMessage is the answer for an error raised before routing, which
// must say nothing of the request it is about.
func fixedMessage(status int) string {
	switch status {
	case fiber.StatusBadRequest:
		return "Malformed request."
	case fiber.StatusRequestHeaderFieldsTooLarge:
		return "Request headers too large."
	case fiber.StatusRequestTimeout:
		return "Request timeout."
	}
	if text := http.StatusText(status); text != "" {
		return text + "."
	}
	return "Request failed."
}
