package client_test

import (
	"context"
	"net/http"
	"testing"
)

func TestHealth(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, _ := e.newClient()
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	// With the database gone, the server answers 503 and Health says so.
	e.store.Close()
	err := c.Health(ctx)
	if ae := apiError(t, err, http.StatusServiceUnavailable); ae.Message == "" {
		t.Fatalf("503 without a message: %+v", ae)
	}
}
