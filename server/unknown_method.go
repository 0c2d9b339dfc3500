package server

import (
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// guardUnknownMethods answers requests whose method Fiber does not know
// (PROPFIND, FOO) through the JSON error shape. Fiber would otherwise
// answer them itself, before any middleware or error handler, with a
// text/plain 400.
func (s *Server) guardUnknownMethods() {
	known := make(map[string]bool, len(fiber.DefaultMethods))
	for _, m := range fiber.DefaultMethods {
		known[m] = true
	}
	fasthttpServer := s.app.Server()
	next := fasthttpServer.Handler
	fasthttpServer.Handler = func(fctx *fasthttp.RequestCtx) {
		if known[string(fctx.Method())] {
			next(fctx)
			return
		}
		c := s.app.AcquireCtx(fctx)
		defer s.app.ReleaseCtx(c)
		_ = s.handleError(c, fiber.ErrMethodNotAllowed)
	}
}
