package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/model"
)

// BenchmarkCreateRecordConcurrentPostgres creates records from 32
// concurrent clients on PostgreSQL, each request its own transaction: what
// the audit chain's lock costs, as every create's event is linked under
// one advisory lock held through its COMMIT (db/postgres/audit.go), so
// creates no longer commit together. PostgreSQL only; SQLite's concurrent
// creates are BenchmarkCreateRecordParallel's.
func BenchmarkCreateRecordConcurrentPostgres(b *testing.B) {
	if !testenv.OnPostgres() {
		b.Skip("PostgreSQL only (ANAVARA_TEST_DATABASE)")
	}
	const clients = 32
	url := pgtest.URL(b)
	func() {
		store, err := postgres.Open(context.Background(), postgres.Options{URL: url})
		if err != nil {
			b.Fatal(err)
		}
		defer store.Close()
		seedBenchDB(b, benchStore{Store: store, url: url}, benchSeed{records: 100_000, others: 1_000, own: 20})
	}()
	body, err := json.Marshal(map[string]string{
		"patient_name": "Amara Okafor", "date_of_birth": "1984-06-02", "diagnosis": "Seasonal allergic rhinitis",
		"treatment": "Antihistamines daily.", "date_of_treatment": model.DateOf(time.Now()).AddDays(30).String(), "doctor": "Dr. Lindqvist",
	})
	if err != nil {
		b.Fatal(err)
	}
	store := openBenchPostgres(b, url)
	srv := newBenchServer(b, store.Store)
	token := newBenchClient(srv).login(b, benchEmails.writer)
	b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := newBenchClient(srv)
		c.set(http.MethodPost, "/api/medical-records", token, body)
		for pb.Next() {
			if status := c.do(); status != http.StatusCreated {
				b.Errorf("status %d: %s", status, c.ctx.Response.Body())
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "creates/s")
}
