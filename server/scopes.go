package server

import (
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/model"
)

// What each route lets a scoped credential (an API token, or a scoped
// JWT) do: the scope it needs, or one of the two markers. A session has
// every scope; a scoped credential gets 403 on a route whose scope it
// lacks, and on a route that takes sessions only.
const (
	// accessPublic marks a route that takes no user credential at all:
	// anyone may call it (signing in), or a service credential guards it.
	accessPublic = "public"
	// accessSession marks a route no token may use: what changes the
	// account's credentials. A token that could change the password, mint
	// more tokens (or a longer-lived one), or link an SSH key (which signs
	// in over SSH, and mints sessions there) would outlive its own
	// revocation and its scopes.
	accessSession = "session"
)

// routeAccess maps every route, "METHOD /path/:param" as Fiber registers
// it, to what it takes. TestEveryRouteHasAScope fails for a route missing
// here; authenticate refuses scoped credentials on any route it does not
// find (the table fails closed). HEAD is looked up as GET.
var routeAccess = map[string]string{
	"GET /healthz": accessPublic,
	"GET /schema":  accessPublic,
	"GET /docs":    accessPublic,
	"GET /docs/*":  accessPublic,

	"POST /api/auth/signup":          accessPublic,
	"POST /api/auth/login":           accessPublic,
	"POST /api/auth/token/refresh":   accessPublic,
	"POST /api/auth/logout":          accessPublic,
	"POST /api/auth/forgot-password": accessPublic,
	"POST /api/auth/reset-password":  accessPublic,
	"POST /api/auth/change-password": accessSession,
	"POST /api/auth/ssh-login":       accessPublic,
	"POST /api/auth/ssh-key-check":   accessPublic,
	"POST /api/auth/ssh-connection":  accessPublic,
	"POST /api/auth/ssh-token":       accessPublic,

	"GET /api/users/me":                     model.ScopeUsersRead,
	"PATCH /api/users/me":                   model.ScopeUsersWrite,
	"GET /api/users/me/ssh-keys":            accessSession,
	"POST /api/users/me/ssh-keys":           accessSession,
	"DELETE /api/users/me/ssh-keys/:keyID":  accessSession,
	"GET /api/users/me/tokens":              accessSession,
	"POST /api/users/me/tokens":             accessSession,
	"DELETE /api/users/me/tokens/:tokenID":  accessSession,
	"GET /api/users/me/access-log":          model.ScopeUsersRead,
	"GET /api/users/me/export":              model.ScopeRecordsRead,
	"GET /api/users/":                       model.ScopeUsersRead,
	"POST /api/users/":                      model.ScopeUsersWrite,
	"GET /api/users/:id":                    model.ScopeUsersRead,
	"PATCH /api/users/:id":                  model.ScopeUsersWrite,
	"GET /api/users/:id/ssh-keys":           accessSession,
	"DELETE /api/users/:id/ssh-keys/:keyID": accessSession,
	"GET /api/users/:id/tokens":             accessSession,
	"DELETE /api/users/:id/tokens/:tokenID": accessSession,
	"GET /api/users/:id/access-log":         model.ScopeUsersRead,
	"GET /api/users/:id/export":             model.ScopeRecordsRead,

	"GET /api/medical-records/":       model.ScopeRecordsRead,
	"POST /api/medical-records/":      model.ScopeRecordsWrite,
	"GET /api/medical-records/:id":    model.ScopeRecordsRead,
	"PUT /api/medical-records/:id":    model.ScopeRecordsWrite,
	"PATCH /api/medical-records/:id":  model.ScopeRecordsWrite,
	"DELETE /api/medical-records/:id": model.ScopeRecordsWrite,

	"GET /api/audit-events":      model.ScopeAuditRead,
	"GET /api/audit-events/head": model.ScopeAuditRead,
	// The population export holds the whole trail, and every record.
	"GET /api/export": model.ScopeAuditRead,
}

// Messages of a scoped credential refused.
const msgSessionOnly = "API tokens cannot use this endpoint: sign in."

// msgMissingScope names the scope a credential lacks.
func msgMissingScope(scope string) string { return "This token lacks the scope " + scope + "." }

// scopeRouteKey is the routeAccess key of the route c matched.
func scopeRouteKey(c *fiber.Ctx) string {
	r := c.Route()
	method := r.Method
	if method == fiber.MethodHead {
		method = fiber.MethodGet
	}
	return method + " " + r.Path
}

// checkScope answers 403 when g is scoped and the route c matched needs a
// scope g lacks, takes sessions only, or is not in routeAccess.
func checkScope(c *fiber.Ctx, g grant) error {
	if g.session() {
		return nil
	}
	need, ok := routeAccess[scopeRouteKey(c)]
	switch {
	case !ok, need == accessSession, need == accessPublic:
		return newError(fiber.StatusForbidden, msgSessionOnly)
	case !slices.Contains(g.scopes, need):
		return newError(fiber.StatusForbidden, msgMissingScope(need))
	}
	return nil
}
