package server

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// UnmatchedRoute is the route label of requests that matched no route.
const UnmatchedRoute = "unmatched"

// requestLogger logs one line per request: method, path, route, status,
// duration, request id and user id. It logs the path without its query
// string, since searches can carry patient names, and never bodies or
// headers. It also reports the request to the configured RequestObserver.
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
	elapsed := time.Since(start)
	// Fiber's strings point into buffers it reuses for the next request;
	// the observer may keep the method (as a metric label), so copy it.
	method := strings.Clone(c.Method())
	route := s.routeLabels.label(c.Route())
	attrs := []any{
		"method", method,
		"path", c.Path(),
		"route", route,
		"status", status,
		"duration_ms", float64(elapsed.Microseconds()) / 1000,
		"request_id", requestID(c),
	}
	if u := currentUser(c); u.ID != "" {
		attrs = append(attrs, "user_id", u.ID)
	}
	s.cfg.Logger.Info("request", attrs...)
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.ObserveRequest(method, route, status, elapsed)
	}
	return err
}

// routeLabels tells endpoint routes from middleware routes, which Fiber
// does not expose on a matched route: it remembers the handler arrays of
// every endpoint, which the matched *fiber.Route shares with the copies
// App.GetRoutes returns.
type routeLabels struct {
	endpoints map[*fiber.Handler]bool
}

// newRouteLabels indexes the endpoints of app; call it after every route is
// registered.
func newRouteLabels(app *fiber.App) routeLabels {
	l := routeLabels{endpoints: make(map[*fiber.Handler]bool)}
	for _, r := range app.GetRoutes(true) {
		if len(r.Handlers) > 0 {
			l.endpoints[&r.Handlers[0]] = true
		}
	}
	return l
}

// label names the route a request was answered by, as its registered
// pattern (/api/medical-records/:id), never the raw path, so that metrics
// keep a bounded number of series. A request that matched nothing but the
// global middleware is UnmatchedRoute. Should middleware ever be mounted
// on a path prefix (none is: authentication is per endpoint), a request
// it answers is labelled with the prefix and "/*".
func (l routeLabels) label(r *fiber.Route) string {
	if r == nil || len(r.Handlers) == 0 {
		return UnmatchedRoute
	}
	path := r.Path
	if len(path) > 1 {
		path = strings.TrimRight(path, "/")
	}
	if !l.endpoints[&r.Handlers[0]] {
		if path == "" || path == "/" {
			return UnmatchedRoute
		}
		return path + "/*"
	}
	if path == "" {
		return "/"
	}
	return path
}
