package cli_test

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql's pgx driver, for the tamperer

	"github.com/anavara/anavara/audit"
	"github.com/anavara/anavara/audit/chain"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/engines"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/model"
)

// tamperer changes a database behind anavara's back, as someone holding
// the file (or the PostgreSQL owner's password) would: a connection of
// its own, the trail's append-only triggers out of the way.
type tamperer struct {
	t        *testing.T
	conn     *sql.DB
	postgres bool
	// hashAsBytes: the engine stores hashes as raw bytes, not hex.
	hashAsBytes bool
}

func newTamperer(t *testing.T, target engines.Target) *tamperer {
	t.Helper()
	tp := &tamperer{t: t, postgres: target.Engine == engines.Postgres}
	var err error
	if tp.postgres {
		tp.conn, err = sql.Open("pgx", target.URL)
	} else {
		tp.conn, err = sql.Open("sqlite3", "file:"+target.Path+"?_busy_timeout=5000")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.conn.Close() })
	if tp.postgres {
		tp.exec(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update, DISABLE TRIGGER audit_events_no_delete`)
		var typ string
		tp.scan(`SELECT data_type FROM information_schema.columns WHERE table_name = 'audit_events' AND column_name = 'hash'`, &typ)
		tp.hashAsBytes = typ == "bytea"
	} else {
		tp.exec(`DROP TRIGGER audit_events_no_update`)
		tp.exec(`DROP TRIGGER audit_events_no_delete`)
		var typ string
		tp.scan(`SELECT typeof(hash) FROM audit_events WHERE seq = 1`, &typ)
		tp.hashAsBytes = typ == "blob"
	}
	return tp
}

// exec runs a statement, placeholders $1, $2… on both engines.
func (tp *tamperer) exec(query string, args ...any) {
	tp.t.Helper()
	if _, err := tp.conn.Exec(query, args...); err != nil {
		tp.t.Fatalf("tamper: %s: %v", query, err)
	}
}

func (tp *tamperer) scan(query string, dest ...any) {
	tp.t.Helper()
	if err := tp.conn.QueryRow(query).Scan(dest...); err != nil {
		tp.t.Fatalf("tamper: %s: %v", query, err)
	}
}

// hash is h as the engine stores it.
func (tp *tamperer) hash(h string) any {
	if tp.hashAsBytes {
		b, err := hex.DecodeString(h)
		if err != nil {
			tp.t.Fatal(err)
		}
		return b
	}
	return h
}

// at is a time as the engine stores it.
func (tp *tamperer) at(t time.Time) any {
	if tp.postgres {
		return t
	}
	return t.UnixMicro()
}

// shift adds by to the seq of every event from seq from on, through a
// range no seq uses, so that no two events share a seq on the way.
func (tp *tamperer) shift(from, by int64) {
	tp.t.Helper()
	const aside = 1_000_000_000
	tp.exec(`UPDATE audit_events SET seq = seq + $1 WHERE seq >= $2`, aside, from)
	tp.exec(`UPDATE audit_events SET seq = seq - $1 WHERE seq >= $2`, aside-by, aside)
}

// insert writes e as it stands, its chain fields included.
func (tp *tamperer) insert(e model.AuditEvent) {
	tp.t.Helper()
	if e.Seq == 0 {
		tp.exec(`INSERT INTO audit_events (id, at, action, entity, ip, via) VALUES ($1, $2, $3, $4, $5, $6)`,
			e.ID, tp.at(e.At), e.Action, e.Entity, e.IP, e.Via)
		return
	}
	tp.exec(`INSERT INTO audit_events (id, at, action, entity, ip, via, seq, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.ID, tp.at(e.At), e.Action, e.Entity, e.IP, e.Via, e.Seq, tp.hash(e.PrevHash), tp.hash(e.Hash))
}

// rehash stores es's chain fields from index from on, relinked after the
// contents es now holds: a forger covering an edit.
func (tp *tamperer) rehash(es []model.AuditEvent, from int) {
	tp.t.Helper()
	prev := chain.Genesis
	if from > 0 {
		prev, _ = chain.Parse(es[from-1].Hash)
	}
	for i := from; i < len(es); i++ {
		prev = chain.Link(&es[i], int64(i+1), prev)
		tp.exec(`UPDATE audit_events SET prev_hash = $1, hash = $2 WHERE id = $3`, tp.hash(es[i].PrevHash), tp.hash(es[i].Hash), es[i].ID)
	}
}

// trailOf is the store's whole trail in chain order.
func trailOf(t *testing.T, store db.Store) []model.AuditEvent {
	t.Helper()
	var es []model.AuditEvent
	err := store.Snapshot(context.Background(), func(s db.Snapshot) error {
		return s.EachAudit(context.Background(), func(e model.AuditEvent) error {
			es = append(es, e)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// settingOf is the --database value naming target.
func settingOf(target engines.Target) string {
	if target.Engine == engines.Postgres {
		return target.URL
	}
	return "sqlite:" + target.Path
}

// verifyCase is one way of tampering and what verify must then print.
type verifyCase struct {
	name string
	// tamper changes the database whose trail was es, of which es[k-1]
	// is the event at seq k.
	tamper func(tp *tamperer, es []model.AuditEvent, k int)
	// expect is verify's --expect, given the trail before; none if nil.
	expect func(es []model.AuditEvent) string
	// want is the line verify must print (a regular expression), and
	// its exit code; with code 2 the line is its error, on stderr.
	want func(es []model.AuditEvent, k int) (code int, line string)
	// engine, when set, is the one engine the case is for.
	engine string
}

// forgedEvent is a sign-in nobody made, at the time of es[k-1].
func forgedEvent(es []model.AuditEvent, k int) model.AuditEvent {
	return model.AuditEvent{ID: "30000000-0000-4000-8000-000000000001", At: es[k-1].At,
		Action: model.ActionLogin, Entity: model.EntityUser, IP: "203.0.113.66", Via: model.ViaAPI}
}

// broken is the line of a break at pos, at the event with id, of kind.
func broken(checked int, pos int, id string, kind chain.Kind, detail string) (int, string) {
	return 1, fmt.Sprintf(`^checked %d events: BROKEN at position %d \(event %s\): %s: %s`,
		checked, pos, regexp.QuoteMeta(id), regexp.QuoteMeta(kind.String()), detail)
}

var verifyCases = []verifyCase{
	{
		name:   "untouched",
		tamper: func(*tamperer, []model.AuditEvent, int) {},
		want: func(es []model.AuditEvent, _ int) (int, string) {
			return 0, fmt.Sprintf(`^checked %d events: ok, head %s$`, len(es), es[len(es)-1].Hash)
		},
	},
	{
		name: "ip edited",
		tamper: func(tp *tamperer, es []model.AuditEvent, k int) {
			tp.exec(`UPDATE audit_events SET ip = '198.51.100.1' WHERE id = $1`, es[k-1].ID)
		},
		want: func(es []model.AuditEvent, k int) (int, string) {
			return broken(k-1, k, es[k-1].ID, chain.ContentsChanged, `its fields hash to [0-9a-f]{64}, not to its stored hash `+es[k-1].Hash)
		},
	},
	{
		name: "action edited",
		tamper: func(tp *tamperer, es []model.AuditEvent, k int) {
			tp.exec(`UPDATE audit_events SET action = 'auth.logout' WHERE id = $1`, es[k-1].ID)
		},
		want: func(es []model.AuditEvent, k int) (int, string) {
			return broken(k-1, k, es[k-1].ID, chain.ContentsChanged, "")
		},
	},
	{
		name: "a list's detail edited",
		tamper: func(tp *tamperer, es []model.AuditEvent, _ int) {
			tp.exec(`UPDATE audit_events SET detail = replace(detail, '"page":1', '"page":2') WHERE id = $1`, es[firstList(tp.t, es)-1].ID)
		},
		want: func(es []model.AuditEvent, _ int) (int, string) {
			i := firstListOf(es)
			return broken(i-1, i, es[i-1].ID, chain.ContentsChanged, "")
		},
	},
	{
		// SQLite keeps a list's subjects as an index into its records:
		// without the records the row no longer reads, and verify says
		// where it stopped.
		name:   "what a list served removed",
		engine: engines.SQLite,
		tamper: func(tp *tamperer, es []model.AuditEvent, _ int) {
			tp.exec(`UPDATE audit_events SET record_ids = NULL WHERE id = $1`, es[firstList(tp.t, es)-1].ID)
		},
		want: func(es []model.AuditEvent, _ int) (int, string) {
			i := firstListOf(es)
			return 2, fmt.Sprintf(`^anavara: read the audit trail of .*: %d events held, the read failed at position %d: .*%s`, i-1, i, es[i-1].ID)
		},
	},
	{
		name: "event deleted",
		tamper: func(tp *tamperer, es []model.AuditEvent, k int) {
			tp.exec(`DELETE FROM audit_events WHERE id = $1`, es[k-1].ID)
		},
		want: func(es []model.AuditEvent, k int) (int, string) {
			return broken(k-1, k, es[k].ID, chain.SeqGap, fmt.Sprintf("seq %d where %d was expected: 1 event before it missing", k+1, k))
		},
	},
	{
		name: "event deleted, later seqs renumbered",
		tamper: func(tp *tamperer, es []model.AuditEvent, k int) {
			tp.exec(`DELETE FROM audit_events WHERE id = $1`, es[k-1].ID)
			tp.shift(int64(k+1), -1)
		},
		want: func(es []model.AuditEvent, k int) (int, string) {
			return broken(k-1, k, es[k].ID, chain.PrevHashMismatch, fmt.Sprintf("prev_hash %s is not the hash of event %d \\(%s\\)", es[k].PrevHash, k-1, es[k-2].Hash))
		},
	},
	{
		name: "event inserted outside the chain",
		tamper: func(tp *tamperer, es []model.AuditEvent, k int) {
			tp.insert(forgedEvent(es, k))
		},
		want: func(es []model.AuditEvent, k int) (int, string) {
			return broken(len(es), len(es)+1, forgedEvent(es, k).ID, chain.NotInChain, "the event has no seq")
		},
	},
	{
		name: "forged event linked in, later seqs renumbered",
		tamper: func(tp *tamperer, es []model.AuditEvent, k int) {
			f := forgedEvent(es, k)
			prev, _ := chain.Parse(es[k-2].Hash)
			chain.Link(&f, int64(k), prev)
			tp.shift(int64(k), 1)
			tp.insert(f)
		},
		// The forgery holds; the event it pushed along does not.
		want: func(es []model.AuditEvent, k int) (int, string) {
			return broken(k, k+1, es[k-1].ID, chain.PrevHashMismatch, fmt.Sprintf("prev_hash %s is not the hash of event %d", es[k-1].PrevHash, k))
		},
	},
	{
		name: "two events swapped",
		tamper: func(tp *tamperer, es []model.AuditEvent, k int) {
			tp.exec(`UPDATE audit_events SET seq = 1000000000 WHERE seq = $1`, k)
			tp.exec(`UPDATE audit_events SET seq = $1 WHERE seq = $2`, k, k+1)
			tp.exec(`UPDATE audit_events SET seq = $1 WHERE seq = 1000000000`, k+1)
		},
		want: func(es []model.AuditEvent, k int) (int, string) {
			return broken(k-1, k, es[k].ID, chain.PrevHashMismatch, "")
		},
	},
	{
		name: "edited and re-hashed to the end",
		tamper: func(tp *tamperer, es []model.AuditEvent, k int) {
			tp.exec(`UPDATE audit_events SET ip = '198.51.100.1' WHERE id = $1`, es[k-1].ID)
			es[k-1].IP = "198.51.100.1"
			tp.rehash(es, k-1)
		},
		// Whole by itself (with a new head): only an anchor shows it.
		want: func(es []model.AuditEvent, _ int) (int, string) {
			return 0, fmt.Sprintf(`^checked %d events: ok, head [0-9a-f]{64}$`, len(es))
		},
	},
	{
		name:   "edited and re-hashed to the end, against the recorded head",
		expect: headOf,
		tamper: func(tp *tamperer, es []model.AuditEvent, k int) {
			tp.exec(`UPDATE audit_events SET ip = '198.51.100.1' WHERE id = $1`, es[k-1].ID)
			es[k-1].IP = "198.51.100.1"
			tp.rehash(es, k-1)
		},
		want: func(es []model.AuditEvent, _ int) (int, string) {
			n := len(es)
			return broken(n-1, n, es[n-1].ID, chain.AnchorMismatch, "hash [0-9a-f]{64} is not the anchored "+es[n-1].Hash)
		},
	},
	{
		name:   "last events deleted, against the recorded head",
		expect: headOf,
		tamper: func(tp *tamperer, es []model.AuditEvent, _ int) {
			tp.exec(`DELETE FROM audit_events WHERE seq >= $1`, len(es)-1)
		},
		want: func(es []model.AuditEvent, _ int) (int, string) {
			n := len(es)
			return 1, fmt.Sprintf(`^checked %d events: BROKEN at position %d: anchor missing: the trail ends after %d events, the anchor recorded %d`, n-2, n-1, n-2, n)
		},
	},
	{
		name:   "untouched, against the recorded head",
		expect: headOf,
		tamper: func(*tamperer, []model.AuditEvent, int) {},
		want: func(es []model.AuditEvent, _ int) (int, string) {
			return 0, fmt.Sprintf(`^checked %d events: ok, head %s; event %d has the expected hash$`, len(es), es[len(es)-1].Hash, len(es))
		},
	},
}

func headOf(es []model.AuditEvent) string {
	return strconv.Itoa(len(es)) + ":" + es[len(es)-1].Hash
}

// firstListOf is the seq of the trail's first event that served records.
func firstListOf(es []model.AuditEvent) int {
	for i, e := range es {
		if len(e.RecordIDs) > 0 {
			return i + 1
		}
	}
	return 0
}

func firstList(t *testing.T, es []model.AuditEvent) int {
	t.Helper()
	i := firstListOf(es)
	if i == 0 {
		t.Fatal("no event in the trail served records")
	}
	return i
}

// testVerifyFindsTampering fills a database through the API (the server
// keeps running), checks that verify finds it whole with the store's own
// head, then tampers with it directly and checks the exact line and exit
// code verify answers.
func testVerifyFindsTampering(t *testing.T, engine string, open func(t *testing.T) (db.Store, engines.Target), cases []verifyCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.engine != "" && tc.engine != engine {
				t.Skip("a case of " + tc.engine)
			}
			store, target := open(t)
			clock := testenv.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
			srv := serveStore(t, store, clock)
			f := populate(t, srv, clock)
			srv.must(t, http.StatusOK, http.MethodGet, "/api/medical-records?page_size=5", f.staffToken, nil, nil)
			es := trailOf(t, store)
			if len(es) < 20 || es[len(es)-1].Seq != int64(len(es)) {
				t.Fatalf("a trail of %d events, the last at seq %d", len(es), es[len(es)-1].Seq)
			}
			head, err := store.Read().AuditHead(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if head.Count != int64(len(es)) || head.HeadHash != es[len(es)-1].Hash {
				t.Fatalf("head %+v, trail of %d ending %s", head, len(es), es[len(es)-1].Hash)
			}
			var served model.AuditHead
			srv.must(t, http.StatusOK, http.MethodGet, "/api/audit-events/head", f.staffToken, nil, &served)
			if served.Count != head.Count || served.HeadHash != head.HeadHash {
				t.Fatalf("GET /api/audit-events/head %+v, the store's %+v", served, head)
			}
			args := []string{"audit", "verify", "--database", settingOf(target)}
			if tc.expect != nil {
				args = append(args, "--expect", tc.expect(es))
			}
			wantCode, wantLine := tc.want(es, len(es)/2)
			tc.tamper(newTamperer(t, target), es, len(es)/2)

			code, stdout, stderr := runCLI(args...)
			said, silent := stdout, stderr
			if wantCode == 2 {
				said, silent = stderr, stdout
			}
			if code != wantCode || !regexp.MustCompile(wantLine).MatchString(strings.TrimSuffix(said, "\n")) || strings.Count(said, "\n") != 1 || silent != "" {
				t.Fatalf("verify exited %d:\n%s%s\nwant %d and one line matching %s", code, stdout, stderr, wantCode, wantLine)
			}
		})
	}
}

func TestAuditVerifyFindsTamperingSQLite(t *testing.T) {
	testenv.SQLiteOnly(t, "tampers with the database file")
	testVerifyFindsTampering(t, engines.SQLite, func(t *testing.T) (db.Store, engines.Target) {
		path := filepath.Join(t.TempDir(), "anavara.db")
		store, err := sqlite.Open(context.Background(), sqlite.Options{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		return store, engines.Target{Engine: engines.SQLite, Path: path}
	}, verifyCases)
}

func TestAuditVerifyFindsTamperingPostgres(t *testing.T) {
	if os.Getenv(pgtest.EnvVar) == "" {
		t.Skip(pgtest.SkipMessage)
	}
	testVerifyFindsTampering(t, engines.Postgres, func(t *testing.T) (db.Store, engines.Target) {
		url := pgtest.URL(t)
		store, err := postgres.Open(context.Background(), postgres.Options{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		return store, engines.Target{Engine: engines.Postgres, URL: url}
	}, verifyCases)
}

// TestAuditVerifyWhileWriting verifies again and again while events are
// appended concurrently, by the group-committing writer and by
// transactions of their own, as a running server appends them: every
// verify sees a whole chain (its snapshot's), and the last the store's head.
func TestAuditVerifyWhileWriting(t *testing.T) {
	store, target := testenv.OpenStore(t, sqlite.Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	ctx := context.Background()
	// A flag, not a cancelled context, stops the appenders: Log returns
	// only once its event is committed, so when they are done the trail
	// is complete.
	var stopped atomic.Bool
	defer stopped.Store(true)
	writer := audit.NewWriter(store, audit.Options{})
	event := func() model.AuditEvent {
		actor, record := uuid.NewString(), uuid.NewString()
		return model.AuditEvent{ID: uuid.NewString(), At: time.Now(), ActorID: &actor, Action: model.ActionRecordRead,
			Entity: model.EntityRecord, EntityID: &record, IP: "192.0.2.1", Via: model.ViaAPI, SubjectIDs: []string{actor}}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 3 { // reads, batched
		wg.Go(func() {
			for !stopped.Load() {
				if err := writer.Log(ctx, event()); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() { // changes, each in its own transaction
		for !stopped.Load() {
			if err := store.Write(ctx, func(tx db.Tx) error { return tx.InsertAudit(ctx, event()) }); err != nil {
				errs <- err
				return
			}
		}
	})
	line := regexp.MustCompile(`^checked (\d+) events: ok, head ([0-9a-f]{64})\n$`)
	last := int64(-1)
	for i := range 3 {
		time.Sleep(100 * time.Millisecond)
		code, stdout, stderr := runCLI("audit", "verify", "--database", settingOf(target))
		m := line.FindStringSubmatch(stdout)
		if code != 0 || m == nil {
			t.Fatalf("verify %d while writing exited %d:\n%s%s", i, code, stdout, stderr)
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		if n < last {
			t.Fatalf("verify %d checked %d events, fewer than the %d before", i, n, last)
		}
		last = n
	}
	stopped.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("append: %v", err)
	}
	head, err := store.Read().AuditHead(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if last < 1 || head.Count <= last {
		t.Fatalf("appended %d events, verify saw %d: the writes did not run alongside", head.Count, last)
	}
	code, stdout, stderr := runCLI("audit", "verify", "--database", settingOf(target))
	if want := fmt.Sprintf("checked %d events: ok, head %s\n", head.Count, head.HeadHash); code != 0 || stdout != want {
		t.Fatalf("verify after the writes exited %d:\n%s%s\nwant %s", code, stdout, stderr, want)
	}
}

// TestAuditVerifyCannotRun: what keeps verify from checking exits 2,
// never 1 (broken) or 0.
func TestAuditVerifyCannotRun(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no database", []string{"--data-dir", dir}, "no database to verify at " + filepath.Join(dir, "anavara.db")},
		{"bad --expect", []string{"--data-dir", dir, "--expect", "12"}, "--expect: want COUNT:HASH"},
		{"bad --expect hash", []string{"--data-dir", dir, "--expect", "12:abc"}, `--expect: hash "abc" is not 64 hex digits`},
		{"bad --database", []string{"--database", "mysql://x"}, "--database: not a database"},
		{"unknown flag", []string{"--since", "x"}, "unknown flag: --since"},
		{"an argument", []string{"data"}, `unknown command "data"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"audit", "verify"}, tt.args...)...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, tt.stderr) {
				t.Fatalf("exited %d:\n%s%s\nwant 2 and %q", code, stdout, stderr, tt.stderr)
			}
		})
	}
	t.Setenv("ANAVARA_EXPECT", "nonsense")
	if code, _, stderr := runCLI("audit", "verify", "--data-dir", dir); code != 2 || !strings.Contains(stderr, "--expect: want COUNT:HASH") {
		t.Fatalf("a bad ANAVARA_EXPECT exited %d: %s", code, stderr)
	}
}

func TestAuditVerifyHelp(t *testing.T) {
	code, stdout, _ := runCLI("audit", "verify", "--help")
	for _, want := range []string{"--expect", "--database", "--data-dir", "one consistent snapshot", "GET /api/audit-events/head",
		"Exit status: 0 the chain holds, 1 it is broken, 2 it could not be checked"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("audit verify --help (exit %d) does not say %q:\n%s", code, want, stdout)
		}
	}
	code, stdout, _ = runCLI("audit")
	if code != 0 || !regexp.MustCompile(`(?m)^\s+verify\s+Check the audit trail's hash chain`).MatchString(stdout) {
		t.Errorf("anavara audit (exit %d) does not list verify:\n%s", code, stdout)
	}
	code, stdout, _ = runCLI("--help")
	if code != 0 || !regexp.MustCompile(`(?m)^\s+audit\s+Work on the audit trail`).MatchString(stdout) {
		t.Errorf("anavara --help (exit %d) does not list audit:\n%s", code, stdout)
	}
	if code, _, stderr := runCLI("audit", "verfy"); code == 0 || !strings.Contains(stderr, "unknown command") {
		t.Errorf("anavara audit verfy: exit %d, %s", code, stderr)
	}
}
