package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/db"
)

// health answers 200 while the database can be read and written, 503 with
// a fixed reason otherwise. The check itself is the store's (db.Health):
// cheap, and reused for a second, so load balancers may poll as often as
// they like. The error behind an unhealthy answer is logged when the
// answer changes, not on every poll.
func (s *Server) health(c *fiber.Ctx) error {
	h := s.db.Health()
	if prev := db.Cause(s.lastHealth.Swap(int32(h.Cause))); prev != h.Cause {
		if h.Cause == db.Healthy {
			s.cfg.Logger.Info("health check passes again", "was", prev.String())
		} else {
			s.cfg.Logger.Error("health check failed", "reason", h.Cause.String(), "error", h.Err)
		}
	}
	if h.Cause != db.Healthy {
		reason := h.Cause.String()
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{
			"status": "unavailable", "reason": reason, "message": "The " + reason + ".",
		})
	}
	return c.JSON(fiber.Map{"status": "ok"})
}
