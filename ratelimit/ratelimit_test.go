package ratelimit_test

import (
	"testing"

	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/ratelimit/ratelimittest"
)

// TestMemory holds the in-memory store to the cases every store answers.
func TestMemory(t *testing.T) {
	ratelimittest.Run(t, func(*testing.T) ratelimit.Store { return ratelimit.Memory{} })
}
