package server

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// requestLogger logs one line per request: method, path, status, duration,
// request id and user id. It logs the path without its query string, since
// searches can carry patient names, and never bodies or headers.
func (s *Server) requestLogger(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		// The error handler has not run yet; ask it for the final status.
		if herr := s.handleError(c, err); herr != nil {
			return herr
		}
		status = c.Response().StatusCode()
		err = nil
	}
	attrs := []any{
		"method", c.Method(),
		"path", c.Path(),
		"status", status,
		"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		"request_id", requestID(c),
	}
	if u := currentUser(c); u.ID != "" {
		attrs = append(attrs, "user_id", u.ID)
	}
	s.cfg.Logger.Info("request", attrs...)
	return err
}
