package server

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/model"
)

// Query parameters a route does not know answer 400 naming each of them
// ({"serch": ["Unknown query parameter."]}), so that a misspelt filter
// fails instead of quietly returning everything. Every route declares what
// it accepts in routeQueryParams, one table; declareQueryParams puts the
// check in front of every route's handlers when the routes are
// registered, and newServer fails on a route the table does not declare
// (TestEveryRouteRefusesUnknownQueryParameters walks them all).

// routeQueryParams is, for every route as "METHOD /pattern" (the pattern
// without a trailing slash; HEAD is GET's), the query parameters it
// accepts; nil accepts none. A route added to server.go is added here.
func routeQueryParams() map[string][]string {
	// pageParams are every list's: page numbers, and the cursors of the
	// keyset pagination.
	pageParams := []string{"page", "page_size", "cursor", "paginate"}
	exportParams := []string{"format"}
	accessLogParams := append([]string{"since", "record_id"}, pageParams...)
	return map[string][]string{
		"GET /healthz": nil,
		"GET /schema":  {"format"},
		"GET /docs":    nil,
		"GET /docs/*":  nil,

		"POST /api/auth/signup":          nil,
		"POST /api/auth/login":           nil,
		"POST /api/auth/token/refresh":   nil,
		"POST /api/auth/logout":          nil,
		"POST /api/auth/forgot-password": nil,
		"POST /api/auth/reset-password":  nil,
		"POST /api/auth/change-password": nil,
		"POST /api/auth/ssh-login":       nil,
		"POST /api/auth/ssh-key-check":   nil,
		"POST /api/auth/ssh-connection":  nil,
		"POST /api/auth/ssh-token":       nil,

		"GET /api/users/me":                     nil,
		"PATCH /api/users/me":                   nil,
		"GET /api/users/me/ssh-keys":            nil,
		"POST /api/users/me/ssh-keys":           nil,
		"DELETE /api/users/me/ssh-keys/:keyID":  nil,
		"GET /api/users/me/tokens":              {"page", "page_size"},
		"POST /api/users/me/tokens":             nil,
		"DELETE /api/users/me/tokens/:tokenID":  nil,
		"GET /api/users/me/access-log":          accessLogParams,
		"GET /api/users/me/export":              exportParams,
		"GET /api/users":                        append([]string{"search", "is_staff", "is_active"}, pageParams...),
		"POST /api/users":                       nil,
		"GET /api/users/:id":                    nil,
		"PATCH /api/users/:id":                  nil,
		"GET /api/users/:id/ssh-keys":           nil,
		"DELETE /api/users/:id/ssh-keys/:keyID": nil,
		"GET /api/users/:id/tokens":             {"page", "page_size"},
		"DELETE /api/users/:id/tokens/:tokenID": nil,
		"GET /api/users/:id/access-log":         accessLogParams,
		"GET /api/users/:id/export":             exportParams,
		"GET /api/medical-records":              append([]string{"search", "doctor", "ordering", "date_of_treatment_after", "date_of_treatment_before", "user_id"}, pageParams...),
		"POST /api/medical-records":             nil,
		"GET /api/medical-records/:id":          nil,
		"PUT /api/medical-records/:id":          nil,
		"PATCH /api/medical-records/:id":        nil,
		"DELETE /api/medical-records/:id":       nil,
		"GET /api/audit-events":                 append([]string{"actor_id", "entity_id", "action", "since"}, pageParams...),
		"GET /api/audit-events/head":            nil,
		"GET /api/export":                       nil,
	}
}

// routeKey names a route in routeQueryParams.
func routeKey(method, path string) string {
	if method == http.MethodHead {
		method = http.MethodGet
	}
	if len(path) > 1 {
		path = strings.TrimRight(path, "/")
	}
	return method + " " + path
}

// declareQueryParams puts, in front of the handlers of every endpoint
// registered on s.app, the check of its query parameters against
// routeQueryParams; it fails on an endpoint the table does not declare.
// Call it once every route is registered, before newRouteLabels (which
// indexes the handler arrays this replaces). Endpoints are told from
// middleware as newRouteLabels tells them: by the handler arrays that
// App.GetRoutes(true), which leaves middleware out, shares with the stack.
func (s *Server) declareQueryParams() error {
	table := routeQueryParams()
	endpoints := make(map[*fiber.Handler]bool)
	for _, r := range s.app.GetRoutes(true) {
		if len(r.Handlers) > 0 {
			endpoints[&r.Handlers[0]] = true
		}
	}
	var undeclared []string
	for _, routes := range s.app.Stack() {
		for _, r := range routes {
			if len(r.Handlers) == 0 || !endpoints[&r.Handlers[0]] {
				continue
			}
			key := routeKey(r.Method, r.Path)
			allowed, ok := table[key]
			if !ok {
				undeclared = append(undeclared, key)
				continue
			}
			r.Handlers = append([]fiber.Handler{queryParamsCheck(allowed)}, r.Handlers...)
		}
	}
	if len(undeclared) > 0 {
		slices.Sort(undeclared)
		undeclared = slices.Compact(undeclared)
		return fmt.Errorf("routes without a declaration of their query parameters (server/query_params.go): %s", strings.Join(undeclared, ", "))
	}
	return nil
}

// msgUnknownQueryParam is the error of a query parameter a route does not
// accept.
const msgUnknownQueryParam = "Unknown query parameter."

// queryParamsCheck answers 400 naming every query parameter of the
// request not in allowed (compared exactly: names are case-sensitive).
func queryParamsCheck(allowed []string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var errs model.FieldErrors
		for key := range c.Context().QueryArgs().All() {
			if len(key) == 0 || slices.Contains(allowed, string(key)) {
				continue
			}
			name := shownParamName(string(key))
			if !errs.Has(name) {
				errs.Add(name, msgUnknownQueryParam)
			}
		}
		if err := errs.Err(); err != nil {
			return err
		}
		return c.Next()
	}
}

// shownParamName is a parameter name as an error names it: valid UTF-8
// and at most 64 bytes, so that a client cannot make the answer carry
// whatever it sent.
func shownParamName(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	if len(name) <= 64 {
		return name
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + "…"
}
