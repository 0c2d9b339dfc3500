package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/server"
)

const (
	idemHeader   = "Idempotency-Key"
	idemReplayed = "Idempotent-Replayed"
)

// idemPost POSTs body to path with the Idempotency-Key key (none when
// empty) through h's server, checking the exchange like h.send.
func idemPost(h *harness, path string, body any, token, key string) *response {
	h.t.Helper()
	req := request{method: http.MethodPost, path: path, body: body, token: token}
	if key != "" {
		req.headers = map[string]string{idemHeader: key}
	}
	return h.send(req)
}

// idemRaw POSTs body to path with key through srv, from any goroutine: it
// reports failures as an error rather than failing a test.
func idemRaw(srv *server.Server, path string, body any, token, key string) (*response, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(data))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set(idemHeader, key)
	res, err := srv.App().Test(r, -1)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &response{Status: res.StatusCode, Header: res.Header, Body: out}, nil
}

// idemSameResponse fails the test unless replay repeats first, marked as
// a replay, and first is not marked.
func idemSameResponse(t *testing.T, first, replay *response) {
	t.Helper()
	if first.Header.Get(idemReplayed) != "" {
		t.Errorf("the first response is marked %s: %q", idemReplayed, first.Header.Get(idemReplayed))
	}
	if got := replay.Header.Get(idemReplayed); got != "true" {
		t.Errorf("the replay's %s is %q, want true", idemReplayed, got)
	}
	if replay.Status != first.Status || !bytes.Equal(replay.Body, first.Body) {
		t.Errorf("replay %d %s\nwant %d %s", replay.Status, replay.Body, first.Status, first.Body)
	}
	for _, name := range []string{"Content-Type", "ETag", "Location"} {
		if got, want := replay.Header.Get(name), first.Header.Get(name); got != want {
			t.Errorf("replay's %s is %q, want %q", name, got, want)
		}
	}
}

// idemSSHKeys counts the SSH keys of userID in the database.
func idemSSHKeys(h *harness, userID string) int {
	h.t.Helper()
	keys, err := h.store.Read().SSHKeysOf(context.Background(), userID)
	if err != nil {
		h.t.Fatal(err)
	}
	return len(keys)
}

// A retry with the key of a create is answered with the first response
// and creates nothing, on each route that creates; without a key, the
// same POST sent twice creates twice (or conflicts), as before.
func TestIdempotencyReplaysTheFirstResponse(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("admin@example.org")
	a := h.signup("a@example.org")
	line, _ := newPublicKey(t, "laptop")
	cases := []struct {
		name  string
		path  string
		token string
		body  any
		count func() int
	}{
		{"record", mrPath, a.Access, mrBody(nil), func() int { return mrCount(h, a.ID) }},
		{"record by staff", mrPath, staff.Access, mrBody(map[string]any{"user_id": a.ID}), func() int { return mrCount(h, a.ID) }},
		{"user", "/api/users", staff.Access, map[string]any{"email": "new@example.org", "first_name": "New", "last_name": "User", "password": testPassword}, func() int { return htUserCount(h) }},
		{"ssh key", "/api/users/me/ssh-keys", a.Access, map[string]any{"public_key": line}, func() int { return idemSSHKeys(h, a.ID) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := mrSub(h, t)
			before := tc.count()
			key := uuid.NewString()
			first := idemPost(h, tc.path, tc.body, tc.token, key).expect(http.StatusCreated)
			replay := idemPost(h, tc.path, tc.body, tc.token, key)
			idemSameResponse(t, first, replay)
			// The trailing-slash spelling is the same route, so the same key.
			idemSameResponse(t, first, idemPost(h, tc.path+"/", tc.body, tc.token, key))
			if got := tc.count(); got != before+1 {
				t.Fatalf("%d created, want 1", got-before)
			}
		})
	}
	t.Run("no key", func(t *testing.T) {
		h := mrSub(h, t)
		before := mrCount(h, a.ID)
		idemPost(h, mrPath, mrBody(nil), a.Access, "").expect(http.StatusCreated)
		res := idemPost(h, mrPath, mrBody(nil), a.Access, "").expect(http.StatusCreated)
		if res.Header.Get(idemReplayed) != "" {
			t.Errorf("a request without a key is marked %s", idemReplayed)
		}
		if got := mrCount(h, a.ID); got != before+2 {
			t.Fatalf("%d created without a key, want 2", got-before)
		}
	})
}

// Client errors are answered once and replayed, as Stripe does; the key
// stays bound to its request.
func TestIdempotencyReplaysClientErrors(t *testing.T) {
	h := newHarness(t)
	a := h.signup("a@example.org")
	bad := mrBody(map[string]any{"date_of_treatment": "2020-01-01"})
	first := idemPost(h, mrPath, bad, a.Access, "bad-1")
	first.expectError(http.StatusBadRequest, "", "date_of_treatment")
	idemSameResponse(t, first, idemPost(h, mrPath, bad, a.Access, "bad-1"))
	// Corrected, it is another request: it takes another key.
	idemPost(h, mrPath, mrBody(nil), a.Access, "bad-1").expect(http.StatusUnprocessableEntity)
	idemPost(h, mrPath, mrBody(nil), a.Access, "bad-2").expect(http.StatusCreated)
	if n := mrCount(h, a.ID); n != 1 {
		t.Fatalf("%d records, want 1", n)
	}
}

// The same key with another request is refused with 422 and creates
// nothing; on another route, or for another account, it is another key.
func TestIdempotencyKeyScope(t *testing.T) {
	h := newHarness(t)
	a := h.signup("a@example.org")
	b := h.signup("b@example.org")
	first := idemPost(h, mrPath, mrBody(nil), a.Access, "shared").expect(http.StatusCreated)

	cases := []struct {
		name string
		body any
	}{
		{"other body", mrBody(map[string]any{"doctor": "Dr. Other"})},
		// Bytes are compared, not JSON values: the same record with its
		// keys in another order is another request.
		{"reordered JSON", `{"doctor":"Dr. Grace Hopper","patient_name":"Ada Lovelace","date_of_birth":"1985-12-10",` +
			`"diagnosis":"Seasonal rhinitis","treatment":"Antihistamines","date_of_treatment":"2026-03-20"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := mrSub(h, t)
			res := h.send(request{method: http.MethodPost, path: mrPath, body: tc.body, token: a.Access,
				headers: map[string]string{idemHeader: "shared", "Content-Type": "application/json"}})
			e := res.expectError(http.StatusUnprocessableEntity, "")
			if !strings.Contains(e.Message, "Idempotency-Key") || !strings.Contains(e.Message, "different request") {
				t.Errorf("422 message %q does not say what is wrong", e.Message)
			}
		})
	}
	if n := mrCount(h, a.ID); n != 1 {
		t.Fatalf("%d records of a, want 1", n)
	}

	// b's key of the same name creates b's own record.
	var mine, theirs model.MedicalRecord
	first.decode(&theirs)
	other := idemPost(h, mrPath, mrBody(nil), b.Access, "shared").expect(http.StatusCreated)
	if other.Header.Get(idemReplayed) != "" {
		t.Fatal("another account's request with the same key was a replay")
	}
	other.decode(&mine)
	if mine.ID == theirs.ID || mine.UserID != b.ID || mrCount(h, b.ID) != 1 {
		t.Fatalf("b's request got %+v, a's record is %s", mine, theirs.ID)
	}

	// The same key on another route is another key.
	line, _ := newPublicKey(t, "k")
	idemPost(h, "/api/users/me/ssh-keys", map[string]any{"public_key": line}, a.Access, "shared").expect(http.StatusCreated)
}

func TestIdempotencyKeyValidation(t *testing.T) {
	h := newHarness(t)
	a := h.signup("a@example.org")
	for name, key := range map[string]string{
		"too long":  strings.Repeat("k", 256),
		"non-ASCII": "ключ",
		"control":   "a\tb",
	} {
		t.Run(name, func(t *testing.T) {
			h := mrSub(h, t)
			idemPost(h, mrPath, mrBody(nil), a.Access, key).expectError(http.StatusBadRequest, "", "Idempotency-Key")
		})
	}
	t.Run("empty", func(t *testing.T) {
		h := mrSub(h, t)
		res := h.send(request{method: http.MethodPost, path: mrPath, body: mrBody(nil), token: a.Access, headers: map[string]string{idemHeader: ""}})
		res.expectError(http.StatusBadRequest, "", "Idempotency-Key")
	})
	// The longest key, and every printable character, are keys.
	idemPost(h, mrPath, mrBody(nil), a.Access, strings.Repeat("k", 255)).expect(http.StatusCreated)
	idemPost(h, mrPath, mrBody(nil), a.Access, ` !"#$%&'()*+,-./0-9:;<=>?@A-Z[\]^_`+"`a-z{|}~").expect(http.StatusCreated)
	if n := mrCount(h, a.ID); n != 2 {
		t.Fatalf("%d records, want 2: a malformed key created one", n)
	}
}

// A key is kept 24 hours: then it is forgotten, and the same request with
// it runs again. Expired keys are pruned as later claims go.
func TestIdempotencyKeysExpire(t *testing.T) {
	h := newHarness(t)
	a := h.signup("a@example.org")
	first := idemPost(h, mrPath, mrBody(nil), a.Access, "daily").expect(http.StatusCreated)
	h.clock.Advance(24*time.Hour - time.Second)
	a = h.login(a.Email, a.Password) // the access token expired
	idemSameResponse(t, first, idemPost(h, mrPath, mrBody(nil), a.Access, "daily"))
	h.clock.Advance(time.Second)
	again := idemPost(h, mrPath, mrBody(nil), a.Access, "daily").expect(http.StatusCreated)
	if again.Header.Get(idemReplayed) != "" || bytes.Equal(again.Body, first.Body) {
		t.Fatal("a key past its 24 hours was replayed")
	}
	if n := mrCount(h, a.ID); n != 2 {
		t.Fatalf("%d records, want 2", n)
	}

	// Pruning: every 64th claim of an instance deletes expired keys.
	// "daily" (claimed twice so far) expires in 24 hours; the claims
	// after it prune it.
	h.clock.Advance(24 * time.Hour)
	a = h.login(a.Email, a.Password)
	for i := range 62 {
		idemPost(h, mrPath, map[string]any{"bad": i}, a.Access, fmt.Sprintf("filler-%d", i)).expect(http.StatusBadRequest)
	}
	if _, err := h.store.Read().IdempotencyKeyOf(context.Background(), a.ID, "POST", mrPath, "daily"); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("the expired key is still stored after 64 claims: %v", err)
	}
}

// gate is a handler for AddIdempotentRoute that counts its runs and, while
// held, blocks them until released.
type gate struct {
	runs    atomic.Int32
	entered chan struct{}
	release chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 16), release: make(chan struct{})} }

func (g *gate) handle(c *fiber.Ctx) error {
	n := g.runs.Add(1)
	g.entered <- struct{}{}
	<-g.release
	return c.Status(http.StatusCreated).JSON(fiber.Map{"run": n})
}

// Two requests with one key at once: one runs, the other waits for it and
// replays its response.
func TestIdempotencyConcurrentRequestsRunOnce(t *testing.T) {
	t.Run("record", func(t *testing.T) {
		h := newHarness(t)
		a := h.signup("a@example.org")
		const clients = 4
		results := make([]*response, clients)
		errs := make([]error, clients)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range clients {
			wg.Go(func() {
				<-start
				results[i], errs[i] = idemRaw(h.srv, mrPath, mrBody(nil), a.Access, "together")
			})
		}
		close(start)
		wg.Wait()
		idemOneRanRestReplayed(t, results, errs)
		if n := mrCount(h, a.ID); n != 1 {
			t.Fatalf("%d records, want 1", n)
		}
	})
	t.Run("waits for the first", func(t *testing.T) {
		h := newHarness(t)
		a := h.signup("a@example.org")
		g := newGate()
		h.srv.AddIdempotentRoute("/test/gated", false, g.handle)
		results := make([]*response, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		wg.Go(func() { results[0], errs[0] = idemRaw(h.srv, "/test/gated", map[string]any{}, a.Access, "k") })
		<-g.entered // the first runs, holding the key
		wg.Go(func() { results[1], errs[1] = idemRaw(h.srv, "/test/gated", map[string]any{}, a.Access, "k") })
		time.Sleep(100 * time.Millisecond) // the second is waiting
		close(g.release)
		wg.Wait()
		idemOneRanRestReplayed(t, results, errs)
		if n := g.runs.Load(); n != 1 {
			t.Fatalf("the handler ran %d times, want 1", n)
		}
	})
	t.Run("409 when the first runs too long", func(t *testing.T) {
		h := newHarness(t, withConfig(func(c *server.Config) { c.IdempotencyWait = 150 * time.Millisecond }))
		a := h.signup("a@example.org")
		g := newGate()
		h.srv.AddIdempotentRoute("/test/gated", false, g.handle)
		var first *response
		var firstErr error
		var wg sync.WaitGroup
		wg.Go(func() { first, firstErr = idemRaw(h.srv, "/test/gated", map[string]any{}, a.Access, "k") })
		<-g.entered
		res, err := idemRaw(h.srv, "/test/gated", map[string]any{}, a.Access, "k")
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != http.StatusConflict || res.Header.Get("Retry-After") == "" {
			t.Fatalf("while the first runs: %d (Retry-After %q) %s, want 409 with Retry-After", res.Status, res.Header.Get("Retry-After"), res.Body)
		}
		close(g.release)
		wg.Wait()
		if firstErr != nil || first.Status != http.StatusCreated {
			t.Fatalf("first: %v %+v", firstErr, first)
		}
		// Once it is done, the retry replays it.
		res, err = idemRaw(h.srv, "/test/gated", map[string]any{}, a.Access, "k")
		if err != nil || res.Status != http.StatusCreated || res.Header.Get(idemReplayed) != "true" || !bytes.Equal(res.Body, first.Body) {
			t.Fatalf("retry after the first finished: %v %+v", err, res)
		}
	})
}

// idemOneRanRestReplayed fails the test unless every request succeeded
// with one body and exactly one was not a replay.
func idemOneRanRestReplayed(t *testing.T, results []*response, errs []error) {
	t.Helper()
	ran := 0
	for i, res := range results {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if res.Status != http.StatusCreated || !bytes.Equal(res.Body, results[0].Body) {
			t.Fatalf("request %d: %d %s, request 0: %d %s", i, res.Status, res.Body, results[0].Status, results[0].Body)
		}
		if res.Header.Get(idemReplayed) != "true" {
			ran++
		}
	}
	if ran != 1 {
		t.Fatalf("%d of %d requests ran, want 1 (the rest replayed)", ran, len(results))
	}
}

// A first request that fails with a server error, or panics, leaves the
// key free: the retry runs again.
func TestIdempotencyServerErrorsDoNotPoisonTheKey(t *testing.T) {
	h := newHarness(t)
	a := h.signup("a@example.org")
	var runs atomic.Int32
	h.srv.AddIdempotentRoute("/test/flaky", false, func(c *fiber.Ctx) error {
		switch runs.Add(1) {
		case 1:
			return errors.New("the database went away")
		case 2:
			panic("a bug")
		case 3:
			return c.Status(http.StatusServiceUnavailable).JSON(fiber.Map{"message": "busy"})
		case 4:
			return c.Status(http.StatusTooManyRequests).JSON(fiber.Map{"message": "slow down"})
		}
		c.Set("Location", "/test/flaky/1")
		return c.Status(http.StatusCreated).JSON(fiber.Map{"id": 1})
	})
	for i, want := range []int{500, 500, 503, 429, 201} {
		res, err := idemRaw(h.srv, "/test/flaky", map[string]any{}, a.Access, "retry-me")
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != want || res.Header.Get(idemReplayed) != "" {
			t.Fatalf("try %d: %d (%s %q) %s, want %d, run", i+1, res.Status, idemReplayed, res.Header.Get(idemReplayed), res.Body, want)
		}
	}
	res, err := idemRaw(h.srv, "/test/flaky", map[string]any{}, a.Access, "retry-me")
	if err != nil || res.Status != http.StatusCreated || res.Header.Get(idemReplayed) != "true" || res.Header.Get("Location") != "/test/flaky/1" {
		t.Fatalf("after the success: %v %+v, want its replay", err, res)
	}
	if n := runs.Load(); n != 5 {
		t.Fatalf("the handler ran %d times, want 5", n)
	}
}

// A response that shows a secret once is not stored: its replay says the
// request succeeded, without the secret.
func TestIdempotencySecretResponsesAreNotStored(t *testing.T) {
	h := newHarness(t)
	a := h.signup("a@example.org")
	h.srv.AddIdempotentRoute("/test/secret", true, func(c *fiber.Ctx) error {
		return c.Status(http.StatusCreated).JSON(fiber.Map{"token": "anv_" + uuid.NewString()})
	})
	first, err := idemRaw(h.srv, "/test/secret", map[string]any{}, a.Access, "once")
	if err != nil || first.Status != http.StatusCreated {
		t.Fatalf("first: %v %+v", err, first)
	}
	stored, err := h.store.Read().IdempotencyKeyOf(context.Background(), a.ID, "POST", "/test/secret", "once")
	if err != nil || stored.Response == nil || !stored.Response.Withheld || stored.Response.Body != nil {
		t.Fatalf("stored: %+v, %v; want a withheld response", stored, err)
	}
	res, err := idemRaw(h.srv, "/test/secret", map[string]any{}, a.Access, "once")
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusConflict || res.Header.Get(idemReplayed) != "true" || bytes.Contains(res.Body, []byte("anv_")) {
		t.Fatalf("replay: %d %v %s, want 409 marked as a replay, without the secret", res.Status, res.Header, res.Body)
	}
}

// A response body over 256 KiB is not stored either: its replay says the
// request succeeded; one just under is replayed.
func TestIdempotencyLargeResponsesAreNotStored(t *testing.T) {
	h := newHarness(t)
	a := h.signup("a@example.org")
	h.srv.AddIdempotentRoute("/test/large", false, func(c *fiber.Ctx) error {
		var in struct{ Size int }
		if err := json.Unmarshal(c.Body(), &in); err != nil {
			return err
		}
		return c.Status(http.StatusCreated).Send(bytes.Repeat([]byte("x"), in.Size))
	})
	for _, tc := range []struct {
		size int
		want int
	}{{256 << 10, http.StatusCreated}, {256<<10 + 1, http.StatusConflict}} {
		body := map[string]any{"size": tc.size}
		key := fmt.Sprint("size-", tc.size)
		first, err := idemRaw(h.srv, "/test/large", body, a.Access, key)
		if err != nil || first.Status != http.StatusCreated || len(first.Body) != tc.size {
			t.Fatalf("first of %d bytes: %v %d", tc.size, err, first.Status)
		}
		res, err := idemRaw(h.srv, "/test/large", body, a.Access, key)
		if err != nil || res.Status != tc.want || res.Header.Get(idemReplayed) != "true" {
			t.Fatalf("replay of %d bytes: %v %d, want %d marked as a replay", tc.size, err, res.Status, tc.want)
		}
		if tc.want == http.StatusCreated && !bytes.Equal(res.Body, first.Body) {
			t.Fatalf("replay of %d bytes differs", tc.size)
		}
	}
}

// Two instances on one PostgreSQL database share the keys: requests with
// one key sent to both at once create once.
func TestIdempotencyAcrossInstances(t *testing.T) {
	onPostgresOnly(t)
	a := newHarness(t)
	b := a.twin()
	user := a.signup("a@example.org")
	for round := range 5 {
		key := fmt.Sprintf("round-%d", round)
		results := make([]*response, 4)
		errs := make([]error, 4)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range results {
			srv := []*server.Server{a.srv, b.srv}[i%2]
			wg.Go(func() {
				<-start
				results[i], errs[i] = idemRaw(srv, mrPath, mrBody(nil), user.Access, key)
			})
		}
		close(start)
		wg.Wait()
		idemOneRanRestReplayed(t, results, errs)
	}
	if n := mrCount(a, user.ID); n != 5 {
		t.Fatalf("%d records, want 5 (one a round)", n)
	}
}

// Every POST a bearer token makes that answers 201 (creates something)
// takes an Idempotency-Key: the document says so, with its 422, and the
// route runs the middleware (a malformed key is refused, naming the
// header). A creating route added without s.idempotent fails here.
func TestEveryCreateTakesAnIdempotencyKey(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("admin@example.org")
	doc := docsLoadOpenAPI(t, server.OpenAPIDocument())
	creates := 0
	for p, item := range doc.Paths.Map() {
		op := item.Post
		if op == nil || op.Responses.Status(http.StatusCreated) == nil {
			continue
		}
		security := doc.Security
		if op.Security != nil {
			security = *op.Security
		}
		bearer := false
		for _, req := range security {
			if _, ok := req["bearerAuth"]; ok {
				bearer = true
			}
		}
		if !bearer {
			continue // no account to scope a key to (signup)
		}
		creates++
		t.Run(p, func(t *testing.T) {
			h := mrSub(h, t)
			documented := false
			for _, ref := range op.Parameters {
				if ref.Ref == "#/components/parameters/IdempotencyKey" {
					documented = true
				}
			}
			if !documented {
				t.Error("the operation does not document the Idempotency-Key parameter")
			}
			if op.Responses.Status(http.StatusUnprocessableEntity) == nil {
				t.Error("the operation does not document the 422 of a reused key")
			}
			h.send(request{method: http.MethodPost, path: p, body: map[string]any{}, token: staff.Access,
				headers: map[string]string{idemHeader: "ключ"}}).expectError(http.StatusBadRequest, "", idemHeader)
		})
	}
	if creates < 3 {
		t.Fatalf("%d creating operations found, want at least 3 (records, users, SSH keys)", creates)
	}
}

// A replayed create of a record serves the record again, so it is a read
// of it: each replay of a success is in the trail as record.read by the
// caller before it is answered, and shows in the patient's access log
// when staff replayed it. A replayed client error serves no record and
// writes nothing.
func TestIdempotencyRecordReplayIsAuditedAsARead(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("admin@example.org")
	a := h.signup("a@example.org")
	key := uuid.NewString()
	body := mrBody(map[string]any{"user_id": a.ID})
	first := idemPost(h, mrPath, body, staff.Access, key).expect(http.StatusCreated)
	var rec model.MedicalRecord
	first.decode(&rec)
	if got, want := h.auditActions(rec.ID), []string{model.ActionRecordCreate}; !slices.Equal(got, want) {
		t.Fatalf("after the create: %v, want %v", got, want)
	}
	for range 2 {
		idemSameResponse(t, first, idemPost(h, mrPath, body, staff.Access, key))
	}
	want := []string{model.ActionRecordCreate, model.ActionRecordRead, model.ActionRecordRead}
	if got := h.auditActions(rec.ID); !slices.Equal(got, want) {
		t.Fatalf("after two replays: %v, want %v", got, want)
	}
	events, _, err := h.store.Read().ListAudit(context.Background(), db.AuditFilter{EntityID: rec.ID, Action: model.ActionRecordRead, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.ActorID == nil || *e.ActorID != staff.ID || !slices.Equal(e.SubjectIDs, []string{a.ID}) {
			t.Errorf("replay event: actor %v subjects %v, want %s about %s", e.ActorID, e.SubjectIDs, staff.ID, a.ID)
		}
	}
	log := alEntries(h, alPath, a.Access)
	reads := 0
	for _, e := range log.Results {
		if e.Action == model.ActionRecordRead && e.EntityID != nil && *e.EntityID == rec.ID {
			reads++
		}
	}
	if reads != 2 {
		t.Errorf("the patient's access log shows %d reads of the record, want the 2 replays: %+v", reads, log.Results)
	}

	// A stored 400 replayed serves no record: nothing more is written.
	badKey := uuid.NewString()
	bad := mrBody(map[string]any{"user_id": a.ID, "date_of_birth": "not a date"})
	idemPost(h, mrPath, bad, staff.Access, badKey).expect(http.StatusBadRequest)
	idemPost(h, mrPath, bad, staff.Access, badKey).expect(http.StatusBadRequest)
	if got := h.auditActions(rec.ID); !slices.Equal(got, want) {
		t.Errorf("after a replayed 400: %v, want %v", got, want)
	}
}
