package server

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// health answers 200 while the database answers a query, 503 otherwise.
func (s *Server) health(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.cfg.Logger.Error("health check failed", "error", err)
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "message": "The database is not answering."})
	}
	return c.JSON(fiber.Map{"status": "ok"})
}
