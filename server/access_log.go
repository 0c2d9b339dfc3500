package server

import "github.com/gofiber/fiber/v2"

// myAccessLog lists who accessed the caller's records and account.
func (s *Server) myAccessLog(c *fiber.Ctx) error { return fiber.ErrNotImplemented }

// userAccessLog lists who accessed a person's records and account.
func (s *Server) userAccessLog(c *fiber.Ctx) error { return fiber.ErrNotImplemented }

// auditHead answers the newest link of the audit chain.
func (s *Server) auditHead(c *fiber.Ctx) error { return fiber.ErrNotImplemented }
