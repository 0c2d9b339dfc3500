package server

import "github.com/gofiber/fiber/v2"

// exportMe streams the caller's data (FHIR R4 NDJSON, or CSV).
func (s *Server) exportMe(c *fiber.Ctx) error { return fiber.ErrNotImplemented }

// exportUser streams one person's data to staff, or to the person.
func (s *Server) exportUser(c *fiber.Ctx) error { return fiber.ErrNotImplemented }

// exportPopulation streams the whole database to staff.
func (s *Server) exportPopulation(c *fiber.Ctx) error { return fiber.ErrNotImplemented }
