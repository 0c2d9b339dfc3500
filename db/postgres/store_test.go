package postgres_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/model"
)

func TestRoundTrip(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	u := createUser(t, s, "ada@example.org")
	got, err := s.Read().UserByEmail(ctx, "ADA@example.org")
	if err != nil {
		t.Fatalf("UserByEmail: %v", err)
	}
	if !reflect.DeepEqual(got, u) {
		t.Fatalf("UserByEmail = %+v, want %+v", got, u)
	}
	r := model.MedicalRecord{ID: uuid.NewString(), UserID: u.ID, PatientName: "Élodie Martin",
		DateOfBirth: model.NewDate(1990, 2, 28), Diagnosis: "flu", Treatment: "rest",
		DateOfTreatment: model.NewDate(2026, 4, 1), Doctor: "Dr. Müller", Created: base, Updated: base, Version: 1}
	write(t, s, func(ctx context.Context, tx db.Tx) error { return tx.CreateRecord(ctx, r) })
	rec, err := s.Read().RecordByID(ctx, r.ID)
	if err != nil || !reflect.DeepEqual(rec, r) {
		t.Fatalf("RecordByID = %+v, %v; want %+v", rec, err, r)
	}
	list, total, err := s.Read().ListRecords(ctx, db.RecordFilter{Search: "élodie", Doctor: "DR. MÜLLER", Limit: 10})
	if err != nil || total != 1 || len(list) != 1 {
		t.Fatalf("ListRecords = %d records, total %d, %v; want 1, 1", len(list), total, err)
	}
	list, total, err = s.Read().ListRecords(ctx, db.RecordFilter{Limit: 0, Ordering: "patient_name"})
	if err != nil || total != 1 || len(list) != 0 {
		t.Fatalf("ListRecords(limit 0) = %d records, total %d, %v; want 0, 1 (the counter)", len(list), total, err)
	}
	if err := s.Write(ctx, func(tx db.Tx) error {
		return tx.CreateUser(ctx, db.UserRow{User: model.User{ID: uuid.NewString(), Email: "Ada@Example.org"}})
	}); !errors.Is(err, db.ErrConflict) {
		t.Fatalf("CreateUser with a taken email, other case: %v, want ErrConflict", err)
	}
	if s.Engine() != "postgres" || len(s.Pools()) != 1 || s.Pools()[0].Name != "pool" {
		t.Fatalf("Engine %q, Pools %+v", s.Engine(), s.Pools())
	}
	if h := s.Health(); h.Cause != db.Healthy {
		t.Fatalf("Health = %v (%v)", h.Cause, h.Err)
	}
}

func TestMigrationsTwiceAreANoOp(t *testing.T) {
	s, url := openStore(t)
	ctx := context.Background()
	v, err := s.Version(ctx)
	if err != nil || v != postgres.LatestVersion() || v < 1 {
		t.Fatalf("Version = %d, %v; LatestVersion = %d", v, err, postgres.LatestVersion())
	}
	createUser(t, s, "ada@example.org")
	again, err := postgres.Open(ctx, postgres.Options{URL: url})
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer again.Close()
	if v, err := again.Version(ctx); err != nil || v != postgres.LatestVersion() {
		t.Fatalf("Version after a second Open = %d, %v", v, err)
	}
	if _, err := again.Read().UserByEmail(ctx, "ada@example.org"); err != nil {
		t.Fatalf("the second Open lost data: %v", err)
	}
}
