package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
	"github.com/anavara/anavara/model"
)

// openStore opens a fresh, migrated database for t, closed when t ends.
func openStore(t *testing.T) (*postgres.Store, string) {
	t.Helper()
	url := pgtest.URL(t)
	s, err := postgres.Open(context.Background(), postgres.Options{URL: url})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, url
}

// base is a fixed instant with microseconds, as stored.
var base = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

// createUser stores a user with email and returns it.
func createUser(t *testing.T, s db.Store, email string) db.UserRow {
	t.Helper()
	u := db.UserRow{User: model.User{ID: uuid.NewString(), Email: email, FirstName: "Ada", LastName: "Lovelace",
		IsActive: true, Created: base, Updated: base, Version: 1}, PasswordHash: "hash"}
	if err := s.Write(context.Background(), func(tx db.Tx) error { return tx.CreateUser(context.Background(), u) }); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

// write runs fn in a transaction of s and fails t if it errs.
func write(t *testing.T, s db.Store, fn func(ctx context.Context, tx db.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.Write(ctx, func(tx db.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("Write: %v", err)
	}
}
