package metrics_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/anavara/anavara/audit"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/metrics"
	"github.com/anavara/anavara/model"
)

// TestReadAuditMetrics checks the events of reads committed, and the
// transactions that held them, are exported as they are at scrape time.
func TestReadAuditMetrics(t *testing.T) {
	store, _ := testenv.OpenStore(t, sqlite.Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	w := audit.NewWriter(store, audit.Options{})
	reg := prometheus.NewRegistry()
	if _, err := metrics.New(reg, metrics.Options{ReadAudit: w}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		e := model.AuditEvent{ID: uuid.NewString(), At: time.Date(2026, 3, 10, 9, 0, i, 0, time.UTC), Action: model.ActionRecordList,
			Entity: model.EntityRecord, IP: "192.0.2.1", Detail: []byte(`{"page":1}`), RecordIDs: []string{uuid.NewString()}}
		if err := w.Log(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	fams := gather(t, reg)
	if got := find(t, fams, "anavara_audit_read_events_total", nil).GetCounter().GetValue(); got != 3 {
		t.Errorf("read_events_total = %v, want 3", got)
	}
	// One at a time, each Log waiting for its own: three transactions.
	if got := find(t, fams, "anavara_audit_read_transactions_total", nil).GetCounter().GetValue(); got != 3 {
		t.Errorf("read_transactions_total = %v, want 3", got)
	}
}
