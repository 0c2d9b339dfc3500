//go:build unix

package server_test

// Benchmarks of the records API (see BENCHMARKS.md for figures and commands).
// They only run with -bench: plain `go test` compiles them and runs none of
// their setup.
//
// Each top-level benchmark builds its database once, in a b.TempDir removed
// when the benchmark ends, and measures its cases as sub-benchmarks, which
// -count repeats without rebuilding. Requests go straight to the Fiber app's
// fasthttp handler (server time: routing, middleware, authentication, SQL,
// JSON), except the app.Test cases, which add Fiber's in-memory connection
// (net.Pipe, HTTP parsing and writing) for comparison.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/valyala/fasthttp"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/dbtest"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/mail"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/password"
	"github.com/anavara/anavara/server"
)

// benchSeed describes a generated database.
type benchSeed struct {
	// records is the total number of medical records.
	records int
	// others is how many patient accounts share the records not owned by
	// the benchmarked patient.
	others int
	// own is how many records the benchmarked patient owns, spread evenly
	// through the creation order.
	own int
}

// benchAccounts are the accounts a seeded database holds besides the
// anonymous other patients.
type benchAccounts struct {
	patient string // owns seed.own records
	writer  string // owns nothing; the create benchmark adds records to it
	staff   string
}

// benchEmails are the logins of benchAccounts.
var benchEmails = benchAccounts{
	patient: "bench-patient@example.com",
	writer:  "bench-writer@example.com",
	staff:   "bench-staff@example.com",
}

// benchRecordBatch is how many records one bulk-load transaction inserts.
const benchRecordBatch = 25_000

// benchSeedEnv names the variable that, set to "import", seeds a
// PostgreSQL database through db.Importer (see seedBenchDB).
const benchSeedEnv = "ANAVARA_BENCH_SEED"

var (
	benchTreatments = []string{
		"Prescribed medication; review in two weeks.",
		"Physiotherapy twice a week for six weeks, then reassess.",
		"Rest, fluids and paracetamol as needed; return if symptoms worsen.",
		"Referred to specialist; blood tests ordered before the appointment.",
		"Lifestyle advice given; dosage adjusted and follow-up booked.",
		"Short course of antibiotics; complete the course even if feeling better.",
	}
)

// seedBenchDB fills a freshly migrated store: the three benchAccounts, seed.others
// other patients and seed.records records, inserted through db.Tx
// (CreateUser, CreateRecord) in transactions of benchRecordBatch rows, on
// either engine. On PostgreSQL, ANAVARA_BENCH_SEED=import loads the very
// same rows (same generator, same seed) through the engine's bulk load,
// db.Importer (COPY), instead, for quicker runs (100,000 records: 9.6 s
// against 21 s through CreateRecord; see BENCHMARKS.md). A PostgreSQL database is
// then vacuumed and analysed (benchStore.settle). It logs how long that
// took.
func seedBenchDB(b *testing.B, store benchStore, seed benchSeed) benchAccounts {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	// One real argon2id hash of the bench password, shared by every account.
	hash, err := password.Hash(testPassword, password.DefaultParams)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2026, 3))
	base := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	user := func(email string, staff bool, at time.Time) db.UserRow {
		return db.UserRow{User: model.User{ID: uuid.NewString(), Email: email, FirstName: "Bench", LastName: "User",
			IsStaff: staff, IsActive: true, Created: at, Updated: at}, PasswordHash: hash}
	}
	ids := benchAccounts{}
	var users []db.UserRow
	for _, u := range []struct {
		id    *string
		email string
		staff bool
	}{{&ids.staff, benchEmails.staff, true}, {&ids.patient, benchEmails.patient, false}, {&ids.writer, benchEmails.writer, false}} {
		row := user(u.email, u.staff, base)
		*u.id = row.ID
		users = append(users, row)
	}
	others := make([]string, seed.others)
	for i := range others {
		row := user(fmt.Sprintf("patient-%05d@example.com", i), false, base.Add(time.Duration(i+1)*time.Second))
		others[i] = row.ID
		users = append(users, row)
	}

	stride := seed.records / max(seed.own, 1)
	record := func(i int) model.MedicalRecord {
		owner := others[rng.IntN(len(others))]
		if seed.own > 0 && i%stride == stride/2 && i/stride < seed.own {
			owner = ids.patient
		}
		// One record a minute: 1,000,000 records span about two years.
		created := base.Add(time.Duration(i) * time.Minute)
		return model.MedicalRecord{
			ID:              uuid.NewString(),
			UserID:          owner,
			PatientName:     dbtest.BenchFirstNames[rng.IntN(len(dbtest.BenchFirstNames))] + " " + dbtest.BenchLastNames[rng.IntN(len(dbtest.BenchLastNames))],
			DateOfBirth:     model.NewDate(1940+rng.IntN(80), time.Month(1+rng.IntN(12)), 1+rng.IntN(28)),
			Diagnosis:       dbtest.BenchDiagnoses[rng.IntN(len(dbtest.BenchDiagnoses))],
			Treatment:       benchTreatments[rng.IntN(len(benchTreatments))],
			DateOfTreatment: model.DateOf(created).AddDays(1 + rng.IntN(60)),
			Doctor:          "Dr. " + dbtest.BenchLastNames[rng.IntN(len(dbtest.BenchLastNames))],
			Created:         created,
			Updated:         created,
		}
	}
	if store.onPostgres() && os.Getenv(benchSeedEnv) == "import" {
		importBenchRows(b, store, users, seed.records, record)
	} else {
		err = store.Write(ctx, func(q db.Tx) error {
			for _, u := range users {
				if err := q.CreateUser(ctx, u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		for lo := 0; lo < seed.records; lo += benchRecordBatch {
			hi := min(lo+benchRecordBatch, seed.records)
			err := store.Write(ctx, func(q db.Tx) error {
				for i := lo; i < hi; i++ {
					if err := q.CreateRecord(ctx, record(i)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Logf("seeded %d records and %d accounts in %s", seed.records, seed.others+3, time.Since(start).Round(time.Millisecond))
	store.settle(b)
	return ids
}

// openBenchDB opens (migrating) the database at path with the given
// synchronous mode ("" is the default, FULL) and closes it when b ends. On
// a PostgreSQL run (ANAVARA_TEST_DATABASE set) it opens a fresh pgtest
// database instead, and path and synchronous are not used.
func openBenchDB(b *testing.B, path, synchronous string) benchStore {
	b.Helper()
	if testenv.OnPostgres() {
		return openBenchPostgres(b, pgtest.URL(b))
	}
	store, err := sqlite.Open(context.Background(), sqlite.Options{Path: path, Synchronous: synchronous})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := store.Close(); err != nil {
			b.Error(err)
		}
	})
	return benchStore{Store: store, path: path}
}

// newBenchServer builds the API as `anavara serve` does (default limits,
// real clock, a text request log; here written to io.Discard) on store. Access tokens last an hour instead of 15 minutes, so
// one login outlasts a long -count run; the TTL costs nothing per request.
func newBenchServer(b *testing.B, store db.Store) *server.Server {
	b.Helper()
	srv, err := server.New(server.Config{
		JWTSecret: bytes.Repeat([]byte("b"), 32),
		AccessTTL: time.Hour,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, store, mail.NewCapture())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			b.Error(err)
		}
	})
	return srv
}

// benchClient calls the Fiber app's fasthttp handler directly with one
// reused RequestCtx, resetting it between calls as fasthttp's server does
// between requests on a connection.
type benchClient struct {
	handler fasthttp.RequestHandler
	ctx     fasthttp.RequestCtx
	req     fasthttp.Request // the request every do() sends
}

func newBenchClient(srv *server.Server) *benchClient {
	c := &benchClient{handler: srv.App().Handler()}
	c.ctx.Init(&c.req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	return c
}

// set makes method uri (with a bearer token and JSON body when given) the
// request do() sends.
func (c *benchClient) set(method, uri, token string, body []byte) {
	c.req.Reset()
	c.req.Header.SetMethod(method)
	c.req.SetRequestURI(uri)
	c.req.Header.SetHost("localhost")
	if token != "" {
		c.req.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+token)
	}
	if body != nil {
		c.req.Header.SetContentType("application/json")
		c.req.SetBody(body)
	}
}

// do sends the current request and returns the status; the body is in
// c.ctx.Response.
func (c *benchClient) do() int {
	c.ctx.Response.Reset()
	c.ctx.ResetUserValues()
	c.req.CopyTo(&c.ctx.Request)
	c.handler(&c.ctx)
	return c.ctx.Response.StatusCode()
}

// call sends one request and decodes a JSON answer into out, failing unless
// the status is want.
func (c *benchClient) call(b *testing.B, method, uri, token string, in, out any, want int) {
	b.Helper()
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			b.Fatal(err)
		}
	}
	c.set(method, uri, token, body)
	if got := c.do(); got != want {
		b.Fatalf("%s %s: status %d, want %d: %s", method, uri, got, want, c.ctx.Response.Body())
	}
	if out != nil {
		if err := json.Unmarshal(c.ctx.Response.Body(), out); err != nil {
			b.Fatalf("%s %s: %v", method, uri, err)
		}
	}
}

// login signs email in through the API and returns the access token.
func (c *benchClient) login(b *testing.B, email string) string {
	b.Helper()
	var res model.AuthResponse
	c.call(b, http.MethodPost, "/api/auth/login", "", map[string]string{"email": email, "password": testPassword}, &res, http.StatusOK)
	return res.AccessToken
}

// cpuClock reads the CPU time this process has used, user and system, on
// every thread.
func cpuClock(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start as
// cpu-ns/op. It includes the garbage collector's background work and the
// kernel time of SQLite's system calls, and it moves less than ns/op (wall
// time) when other processes compete for the machine's cores.
func reportCPU(b *testing.B, start time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(cpuClock(b)-start)/float64(b.N), "cpu-ns/op")
	}
}

// storageWrites reads how many bytes this process has sent to storage so
// far, or -1 where the kernel does not say. SQLite writes whole pages, so
// this counts WAL frames and checkpoints as the disk sees them.
func storageWrites() int64 {
	n, ok := testenv.ProcessIO("write_bytes")
	if !ok {
		return -1
	}
	return n
}

// writeCalls reads how many write system calls this process has made so
// far, or -1 where the kernel does not say.
func writeCalls() int64 {
	n, ok := testenv.ProcessIO("syscw")
	if !ok {
		return -1
	}
	return n
}

// reportStorageWrites reports, per operation since the given starting
// counts, the KiB sent to storage (write-KiB/op) and the write system
// calls made (writes/op), where the kernel counts them.
func reportStorageWrites(b *testing.B, startBytes, startCalls int64) {
	if b.N == 0 {
		return
	}
	if end := storageWrites(); startBytes >= 0 && end >= 0 {
		b.ReportMetric(float64(end-startBytes)/1024/float64(b.N), "write-KiB/op")
	}
	if end := writeCalls(); startCalls >= 0 && end >= 0 {
		b.ReportMetric(float64(end-startCalls)/float64(b.N), "writes/op")
	}
}

// benchGET measures GET uri as the holder of token through the handler,
// checking the status and how many results the page holds. On PostgreSQL
// it also reports the backends' CPU (engineMeter).
func benchGET(b *testing.B, store benchStore, srv *server.Server, uri, token string, wantResults int) {
	c := newBenchClient(srv)
	var page model.Page[json.RawMessage]
	c.call(b, http.MethodGet, uri, token, nil, &page, http.StatusOK)
	if len(page.Results) != wantResults {
		b.Fatalf("GET %s: %d results, want %d (count %d)", uri, len(page.Results), wantResults, page.Count)
	}
	b.ReportAllocs()
	meter := startEngineMeter(b, store, false)
	cpu := cpuClock(b)
	for b.Loop() {
		if status := c.do(); status != http.StatusOK {
			b.Fatalf("GET %s: status %d: %s", uri, status, c.ctx.Response.Body())
		}
	}
	reportCPU(b, cpu)
	meter.report(b)
}

// getParallel GETs uri as the holder of token from b.RunParallel's
// goroutines, one reused RequestCtx each, as the fasthttp server would.
func getParallel(b *testing.B, srv *server.Server, uri, token string) {
	b.RunParallel(func(pb *testing.PB) {
		c := newBenchClient(srv)
		c.set(http.MethodGet, uri, token, nil)
		for pb.Next() {
			if status := c.do(); status != http.StatusOK {
				b.Errorf("status %d: %s", status, c.ctx.Response.Body())
				return
			}
		}
	})
}

// BenchmarkListRecordsPatient lists the first page of a patient's own
// records: the patient owns 20 of 100,000 records, the other 99,980 belong
// to 1,000 other patients.
func BenchmarkListRecordsPatient(b *testing.B) {
	dir := b.TempDir()
	store := openBenchDB(b, filepath.Join(dir, "anavara.db"), "")
	seedBenchDB(b, store, benchSeed{records: 100_000, others: 1_000, own: 20})
	srv := newBenchServer(b, store.Store)
	token := newBenchClient(srv).login(b, benchEmails.patient)
	const uri = "/api/medical-records?page_size=20"

	b.Run("handler", func(b *testing.B) { benchGET(b, store, srv, uri, token, 20) })

	// The store calls the handler makes, without HTTP: where the time goes.
	ctx := context.Background()
	patient, err := store.Read().UserByEmail(ctx, benchEmails.patient)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("db.UserByID", func(b *testing.B) {
		b.ReportAllocs()
		meter := startEngineMeter(b, store, false)
		cpu := cpuClock(b)
		for b.Loop() {
			if _, err := store.Read().UserByID(ctx, patient.ID); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, cpu)
		meter.report(b)
	})
	b.Run("db.ListRecords", func(b *testing.B) {
		b.ReportAllocs()
		meter := startEngineMeter(b, store, false)
		cpu := cpuClock(b)
		for b.Loop() {
			rs, n, err := store.Read().ListRecords(ctx, db.RecordFilter{UserID: patient.ID, Limit: 20})
			if err != nil || len(rs) != 20 || n != 20 {
				b.Fatalf("%d records of %d, %v", len(rs), n, err)
			}
		}
		reportCPU(b, cpu)
		meter.report(b)
	})

	// Both cores serving at once, one RequestCtx per goroutine, as the
	// fasthttp server would: ns/op here is wall time over all requests.
	b.Run("handler-parallel", func(b *testing.B) {
		b.ReportAllocs()
		meter := startEngineMeter(b, store, false)
		cpu := cpuClock(b)
		defer meter.report(b)
		defer reportCPU(b, cpu)
		getParallel(b, srv, uri, token)
	})

	// 32 clients at once, the load the audit of every read must keep up
	// with (issue 14: audited, at least 0.9× the un-audited throughput).
	b.Run("handler-32", func(b *testing.B) {
		const clients = 32
		procs := runtime.GOMAXPROCS(0)
		if clients%procs != 0 {
			b.Skipf("%d clients do not divide among GOMAXPROCS=%d", clients, procs)
		}
		b.SetParallelism(clients / procs)
		b.ReportAllocs()
		meter := startEngineMeter(b, store, false)
		cpu := cpuClock(b)
		start, audited := time.Now(), srv.ReadAuditStats()
		defer func() {
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lists/s")
			if st := srv.ReadAuditStats(); st.Transactions > audited.Transactions {
				b.ReportMetric(float64(st.Events-audited.Events)/float64(st.Transactions-audited.Transactions), "events/txn")
			}
		}()
		defer meter.report(b)
		defer reportCPU(b, cpu)
		getParallel(b, srv, uri, token)
	})

	// The same request through app.Test: adds net.Pipe, a goroutine, HTTP
	// parsing and writing, and net/http's client-side objects.
	b.Run("app.Test", func(b *testing.B) {
		b.ReportAllocs()
		meter := startEngineMeter(b, store, false)
		cpu := cpuClock(b)
		defer meter.report(b)
		defer reportCPU(b, cpu)
		for b.Loop() {
			req := httptest.NewRequest(http.MethodGet, uri, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := srv.App().Test(req, -1)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	})
}

// BenchmarkCreateRecord creates records as a patient in a database of
// 100,000 records, each request one write transaction (record + audit
// event). On SQLite, FULL is the default and what the target is for;
// NORMAL is for comparison (same file, reopened). On PostgreSQL there is
// one case, the server's synchronous_commit as SHOW reports it (named
// after it; the server's default is on), on the same database reopened.
func BenchmarkCreateRecord(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "anavara.db")
	var pgURL string
	func() {
		if testenv.OnPostgres() {
			pgURL = pgtest.URL(b)
			store, err := postgres.Open(context.Background(), postgres.Options{URL: pgURL})
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			seedBenchDB(b, benchStore{Store: store, url: pgURL}, benchSeed{records: 100_000, others: 1_000, own: 20})
			return
		}
		store, err := sqlite.Open(context.Background(), sqlite.Options{Path: path})
		if err != nil {
			b.Fatal(err)
		}
		defer store.Close()
		seedBenchDB(b, benchStore{Store: store, path: path}, benchSeed{records: 100_000, others: 1_000, own: 20})
	}()
	treatment := model.DateOf(time.Now()).AddDays(30).String()
	body, err := json.Marshal(map[string]string{
		"patient_name":      "Amara Okafor",
		"date_of_birth":     "1984-06-02",
		"diagnosis":         "Seasonal allergic rhinitis",
		"treatment":         "Antihistamines daily through the pollen season; review in spring.",
		"date_of_treatment": treatment,
		"doctor":            "Dr. Lindqvist",
	})
	if err != nil {
		b.Fatal(err)
	}
	type benchCase struct {
		name string
		open func(b *testing.B) benchStore
	}
	var cases []benchCase
	if pgURL != "" {
		mode := benchStore{url: pgURL}.pgSetting(b, "synchronous_commit")
		b.Logf("PostgreSQL synchronous_commit = %s", mode)
		cases = append(cases, benchCase{"synchronous_commit=" + mode, func(b *testing.B) benchStore { return openBenchPostgres(b, pgURL) }})
	} else {
		for _, sync := range []string{"FULL", "NORMAL"} {
			cases = append(cases, benchCase{"synchronous=" + sync, func(b *testing.B) benchStore { return openBenchDB(b, path, sync) }})
		}
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			store := bc.open(b)
			srv := newBenchServer(b, store.Store)
			c := newBenchClient(srv)
			token := c.login(b, benchEmails.writer)
			c.set(http.MethodPost, "/api/medical-records", token, body)
			b.ReportAllocs()
			meter := startEngineMeter(b, store, true)
			cpu := cpuClock(b)
			for b.Loop() {
				if status := c.do(); status != http.StatusCreated {
					b.Fatalf("status %d: %s", status, c.ctx.Response.Body())
				}
			}
			reportCPU(b, cpu)
			meter.report(b)
		})
	}
}

// BenchmarkListRecordsStaff1M lists records as staff over 1,000,000 records
// (1,000 patients): the first page, a deep page, the last page, and
// searches that match many rows and none.
func BenchmarkListRecordsStaff1M(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "anavara.db")
	store := openBenchDB(b, path, "")
	seedBenchDB(b, store, benchSeed{records: 1_000_000, others: 1_000, own: 20})
	store.logSize(b)
	srv := newBenchServer(b, store.Store)
	token := newBenchClient(srv).login(b, benchEmails.staff)
	benchList(b, store, srv, "/api/medical-records?page_size=20", token, []benchListCase{
		{"page=1", "", 20},
		{"page=1000", "&page=1000", 20},         // OFFSET 19,980
		{"page=50000", "&page=50000", 20},       // the last page: OFFSET 999,980
		{"search=asthma", "&search=asthma", 20}, // one diagnosis in 30: ~33,000 matches
		{"search=okafor", "&search=okafor", 20}, // a surname in patient_name or doctor: ~5% of rows
		{"search=nomatch", "&search=xylophone", 0},
	})
}

// benchListCase is one query of a list benchmark: what it appends to the
// list's URL and how many results its page must hold.
type benchListCase struct {
	name, query string
	results     int
}

// benchList measures GET uri+query for each case as a sub-benchmark.
func benchList(b *testing.B, store benchStore, srv *server.Server, uri, token string, cases []benchListCase) {
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) { benchGET(b, store, srv, uri+bc.query, token, bc.results) })
	}
}
