package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/model"
)

// Write runs its transaction as statements on a pooled connection. Whatever
// goes wrong, nothing of the failed transaction may land, and the
// connection must go back to the pool outside any transaction (BEGIN
// inside an open one would fail every later write).
func TestWriteLeavesNoTransactionOpen(t *testing.T) {
	ctx := context.Background()
	// Each case moves the record counter, then fails.
	bump := func(q *queries) {
		if _, err := q.q.ExecContext(ctx, "UPDATE counts SET n = n + 100 WHERE name = 'medical_records'"); err != nil {
			t.Error(err)
		}
	}
	for _, tc := range []struct {
		name string
		fn   func(q *queries) error
		// want is in the error Write returns, or the panic it passes on.
		want string
	}{
		{
			// A deferred foreign-key violation fails the COMMIT, after
			// which SQLite keeps the transaction open.
			name: "commit fails",
			fn: func(q *queries) error {
				bump(q)
				if _, err := q.q.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
					return err
				}
				now := time.Now()
				return q.CreateRecord(ctx, model.MedicalRecord{ID: uuid.NewString(), UserID: uuid.NewString(), PatientName: "p",
					DateOfBirth: model.NewDate(1990, 1, 1), DateOfTreatment: model.NewDate(2030, 1, 1), Doctor: "d", Created: now, Updated: now})
			},
			want: "FOREIGN KEY constraint failed",
		},
		{
			name: "fn panics",
			fn: func(q *queries) error {
				bump(q)
				panic("in the middle of a transaction")
			},
			want: "in the middle of a transaction",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "write.db")})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			func() {
				defer func() {
					if p := recover(); p != nil && !strings.Contains(p.(string), tc.want) {
						t.Fatalf("panic %v", p)
					}
				}()
				if err := d.write(ctx, tc.fn); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Write returned %v, want an error with %q", err, tc.want)
				}
			}()
			var n int
			if err := d.reader.QueryRowContext(ctx, "SELECT n FROM counts WHERE name = 'medical_records'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("record counter %d after the failed write, want 0", n)
			}
			if err := d.write(ctx, func(q *queries) error { bump(q); return nil }); err != nil {
				t.Fatalf("the write after: %v", err)
			}
			if err := d.reader.QueryRowContext(ctx, "SELECT n FROM counts WHERE name = 'medical_records'").Scan(&n); err != nil || n != 100 {
				t.Fatalf("record counter %d, %v after the next write, want 100", n, err)
			}
		})
	}
}
