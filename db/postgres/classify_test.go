package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
)

func TestClassify(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("insert user: %w", &pgconn.PgError{Code: code}) }
	for _, c := range []struct {
		err  error
		want db.Cause
	}{
		{nil, db.Healthy},
		{db.ErrNotFound, db.Healthy},
		{fmt.Errorf("x: %w", db.ErrConflict), db.Healthy},
		{context.Canceled, db.Healthy},
		{pgx.ErrNoRows, db.Healthy},
		{pg("23505"), db.Healthy}, // unique_violation
		{pg("40001"), db.Healthy}, // serialization_failure
		{pg("40P01"), db.Healthy}, // deadlock_detected
		{pg("42601"), db.Healthy}, // syntax_error: a bug, not the database
		{pg("23001"), db.Healthy}, // the audit trail's refusal
		{pg("53100"), db.CauseDiskFull},
		{pg("53200"), db.CauseUnavailable}, // out_of_memory
		{pg("53300"), db.CauseUnavailable}, // too_many_connections
		{pg("25006"), db.CauseReadOnly},
		{pg("XX001"), db.CauseCorrupt},
		{pg("XX002"), db.CauseCorrupt},
		{pg("58030"), db.CauseIOError},
		{pg("08006"), db.CauseUnavailable}, // connection_failure
		{pg("57P01"), db.CauseUnavailable}, // admin_shutdown
		{pg("57P03"), db.CauseUnavailable}, // cannot_connect_now
		{pg("57014"), db.CauseUnavailable}, // statement_timeout
		{context.DeadlineExceeded, db.CauseUnavailable},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), db.CauseUnavailable},
		{errors.New("something else"), db.Healthy},
	} {
		if got := postgres.Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	// A server that is not there.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := pgx.Connect(ctx, "postgres://nobody:pw@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if got := postgres.Classify(err); got != db.CauseUnavailable {
		t.Errorf("Classify(%v) = %v, want %v", err, got, db.CauseUnavailable)
	}
}

func TestRedact(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://ann:s3cret@db.example:5432/anavara?sslmode=require", "postgres://ann:xxxxx@db.example:5432/anavara?sslmode=require"},
		{"postgresql://ann@db/anavara", "postgresql://ann@db/anavara"},
		{"postgres://db/anavara?password=s3cret&sslmode=disable", "postgres://db/anavara?password=xxxxx&sslmode=disable"},
		{"postgres://ann:p%40ss@db/anavara", "postgres://ann:xxxxx@db/anavara"},
		{"host=db user=ann password=s3cret dbname=anavara", "host=db user=ann password=xxxxx dbname=anavara"},
		{"host=db password='s3 cret' dbname=anavara", "host=db password=xxxxx dbname=anavara"},
	} {
		if got := postgres.Redact(c.in); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := postgres.Redact("postgres://ann:s3cret@db:notaport/x\x7f"); strings.Contains(got, "s3cret") {
		t.Errorf("Redact of an unparseable URL = %q", got)
	}
}

// Open's errors end up in logs: none may contain the password, however
// the URL is wrong.
func TestPasswordNeverInErrors(t *testing.T) {
	const pw = "Sup3rS3cretPassw0rd"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, u := range []string{
		"postgres://anavara:" + pw + "@127.0.0.1:1/anavara?sslmode=disable&connect_timeout=2",
		"postgres://anavara:" + pw + "@127.0.0.1:5432/anavara?sslmode=bogus",
		"postgres://anavara:" + pw + "@127.0.0.1:5432/anavara?pool_max_conns=many",
		"postgres://anavara:" + pw + "@[::1/anavara",
		"host=127.0.0.1 port=1 user=anavara password=" + pw + " connect_timeout=2",
		"postgres://anavara@127.0.0.1:1/anavara?password=" + pw + "&connect_timeout=2",
	} {
		_, err := postgres.Open(ctx, postgres.Options{URL: u})
		if err == nil {
			t.Errorf("Open(%s) succeeded", postgres.Redact(u))
			continue
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("Open(%s) error contains the password: %v", postgres.Redact(u), err)
		}
	}
	if raw := os.Getenv(pgtest.EnvVar); raw != "" {
		// A wrong password for a server that is there.
		u := mustParse(t, raw)
		user := "anavara"
		if u.User != nil {
			user = u.User.Username()
		}
		u.User = url.UserPassword(user, pw)
		_, err := postgres.Open(ctx, postgres.Options{URL: u.String()})
		if err == nil || strings.Contains(err.Error(), pw) {
			t.Errorf("Open with a wrong password: %v", err)
		}
	}
}
