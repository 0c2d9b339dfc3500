package server

import "github.com/gofiber/fiber/v2"

// docsRoutes serves the OpenAPI document and the interactive docs.
func (s *Server) docsRoutes(app *fiber.App) {}
