package client_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

func TestExport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin, adminUser := e.staff("admin@example.org")
	c, pat := e.patient("pat@example.org")
	rec, err := c.CreateRecord(ctx, client.RecordInput{
		PatientName: "Pat", DateOfBirth: date(t, "1990-01-01"), DateOfTreatment: date(t, "2026-04-01"), Doctor: "Dr Grey", Diagnosis: "=cmd|' /C calc'!A0",
	})
	if err != nil {
		t.Fatal(err)
	}

	read := func(ex *client.Export) []string {
		t.Helper()
		defer ex.Body.Close()
		var lines []string
		sc := bufio.NewScanner(ex.Body)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		return lines
	}

	for _, tc := range []struct {
		name, who, format, contentType, ext string
		c                                   *client.Client
	}{
		{"mine, FHIR by default", "", "", "application/fhir+ndjson", ".ndjson", c},
		{"mine, FHIR", "me", client.ExportFHIR, "application/fhir+ndjson", ".ndjson", c},
		{"mine, CSV", "", client.ExportCSV, "text/csv", ".csv", c},
		{"staff, the patient's", pat.ID, client.ExportFHIR, "application/fhir+ndjson", ".ndjson", admin},
	} {
		ex, err := tc.c.Export(ctx, tc.who, tc.format)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if ex.ContentType != tc.contentType || !strings.HasSuffix(ex.FileName, tc.ext) || strings.ContainsAny(ex.FileName, "/\\") {
			t.Fatalf("%s: content type %q, file name %q", tc.name, ex.ContentType, ex.FileName)
		}
		lines := read(ex)
		all := strings.Join(lines, "\n")
		if !strings.Contains(all, rec.ID) {
			t.Fatalf("%s: the record is not in %q", tc.name, all)
		}
		if tc.format == client.ExportCSV {
			if len(lines) != 2 || !strings.HasPrefix(lines[0], "id,") || !strings.Contains(lines[1], "'=cmd") {
				t.Fatalf("%s: %q", tc.name, lines)
			}
		} else if !strings.Contains(lines[0], `"resourceType":"Patient"`) || !strings.Contains(all, `"resourceType":"Condition"`) {
			t.Fatalf("%s: %q", tc.name, lines)
		}
	}
	if n := e.countAudit(model.ActionUserExport); n != 4 {
		t.Fatalf("%d exports audited, want 4", n)
	}

	// A stale access token is refreshed and the export asked again.
	tokens := c.Tokens()
	c.SetTokens(model.TokenPair{AccessToken: "stale", RefreshToken: tokens.RefreshToken})
	ex, err := c.Export(ctx, "", "")
	if err != nil {
		t.Fatalf("with a stale access token: %v", err)
	}
	if _, err := io.Copy(io.Discard, ex.Body); err != nil {
		t.Fatal(err)
	}
	ex.Body.Close()

	_, err = c.Export(ctx, adminUser.ID, "")
	apiError(t, err, http.StatusNotFound)
	_, err = c.Export(ctx, "", "xml")
	if ae := apiError(t, err, http.StatusBadRequest); ae.Field("format") == "" {
		t.Fatalf("bad format: %+v", ae)
	}
}
