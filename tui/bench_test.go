package tui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/tui"
	"github.com/anavara/anavara/tui/client"
)

// benchUI opens the records of a patient with n records, in true colour
// at 120×40, showing 100 records a page.
func benchUI(b *testing.B, n int) *driver {
	e := newEnv(b)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	for i := 1; i <= n; i++ {
		ann.record(b, client.RecordInput{
			PatientName: fmt.Sprintf("Patient %03d Example-Name", i),
			Doctor:      "Dr. Meredith Grey",
			Diagnosis:   strings.Repeat(fmt.Sprintf("Finding %d: stable, follow up in two weeks.\n", i), 30),
			Treatment:   strings.Repeat("Rest, fluids and paracetamol as needed. ", 40),
		})
	}
	c := e.client()
	if _, err := c.Login(context.Background(), "ann@example.org", testPassword); err != nil {
		b.Fatal(err)
	}
	d := start(b, tui.Options{Client: c, SignedIn: true, Renderer: colorRenderer()}, 120, 40)
	d.typ("+") // 50 a page
	d.typ("+") // 100 a page
	if !strings.Contains(d.view(), "100 per page") {
		b.Fatalf("not showing 100 a page:\n%s", d.view())
	}
	return d
}

// BenchmarkRecordsView renders the records screen with 100 rows loaded.
func BenchmarkRecordsView(b *testing.B) {
	d := benchUI(b, 100)
	d.press(tea.KeyDown, tea.KeyDown)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = d.m.View()
	}
}

// BenchmarkDetailView renders the detail view of a record with a long
// diagnosis and treatment.
func BenchmarkDetailView(b *testing.B) {
	d := benchUI(b, 3)
	d.press(tea.KeyEnter)
	if !strings.Contains(d.view(), "Diagnosis") {
		b.Fatalf("not on the detail view:\n%s", d.view())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = d.m.View()
	}
}
