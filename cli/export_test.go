package cli_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/google/uuid"

	"github.com/anavara/anavara/cli"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/model"
)

// On a terminal, anavara export redraws one progress line per file in
// place (export-population.txtar checks the line per file elsewhere).
func TestExportProgressBarOnATerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skip("no pty:", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	var screen bytes.Buffer
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(&screen, ptmx); close(copied) }()

	dir := t.TempDir()
	store, target := testenv.OpenStore(t, sqlite.Options{Path: filepath.Join(dir, "anavara.db")})
	ctx := context.Background()
	now := time.Now().UTC()
	u := model.User{ID: uuid.NewString(), Email: "ann@example.org", FirstName: "Ann", LastName: "Lee", IsActive: true, Created: now, Updated: now}
	err = store.Write(ctx, func(q db.Tx) error {
		if err := q.CreateUser(ctx, db.UserRow{User: u, PasswordHash: "x"}); err != nil {
			return err
		}
		return q.CreateRecord(ctx, model.MedicalRecord{ID: uuid.NewString(), UserID: u.ID, PatientName: "Ann Lee",
			DateOfBirth: model.NewDate(1990, 4, 1), DateOfTreatment: model.NewDate(2030, 1, 1), Diagnosis: "Gout",
			Treatment: "Rest", Doctor: "Dr. Osei", Created: now, Updated: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	database := "sqlite:" + target.Path
	if target.URL != "" {
		database = target.URL
	}
	var errOut bytes.Buffer
	code := cli.Execute(ctx, []string{"export", "--database", database, "--out", filepath.Join(dir, "exp")},
		cli.Streams{In: strings.NewReader(""), Out: tty, Err: &errOut})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	tty.Close()
	<-copied
	out := screen.String()
	for _, want := range []string{"\rCondition.ndjson", "\rPatient.ndjson", "100% 1/1", "█", "written to "} {
		if !strings.Contains(out, want) {
			t.Errorf("the terminal shows no %q:\n%q", want, out)
		}
	}
	if strings.Contains(out, "Condition.ndjson   1 resources") {
		t.Errorf("a terminal got the line-per-file report:\n%q", out)
	}
}
