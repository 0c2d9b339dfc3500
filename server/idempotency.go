package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// Idempotency-Key: a client that may send a POST twice (a retry after a
// timeout, a job run again) sends a key with it; the first request with
// the key runs, and every later one with the same key and the same
// request is answered with the first one's response instead of creating
// again. The key's row lives in the database (db.IdempotencyKey), so the
// promise holds across every instance on one database.
//
// The rules, documented in openapi.yaml and the README:
//   - A key is 1 to 255 printable ASCII characters, else 400. It is
//     scoped to the authenticated account and to the route: another
//     account's key, or the same key on another route, is another key.
//   - "The same request" is the same method, route, query string and
//     body bytes: the body is compared byte for byte, not as JSON, so a
//     retry must resend what it sent (every HTTP client's retry does).
//     The same key with another request answers 422.
//   - A key is kept for 24 hours after its first request; then it is
//     forgotten (and pruned) and a request with it runs as new.
//   - Responses with a status below 500 are stored and replayed, errors
//     included, as Stripe does: a 400 stays a 400 for that key, and a
//     corrected request takes a new key. 5xx, 408 and 429 answers are
//     not stored and neither is a request that panicked: the key is
//     released and a retry runs again.
//   - A replay has the first response's status, body, Content-Type,
//     Location and ETag, and the header Idempotent-Replayed: true.
//   - A request whose key another request is running waits for it, up to
//     Config.IdempotencyWait (10 s), by reading the row again, and then
//     replays its response; still running then, it answers 409 with
//     Retry-After. A claim whose process died is abandoned after
//     idempotencyLease, when a retry may claim the key again.
//   - A response body that carried a secret shown once (idempotentSecret)
//     or is larger than maxReplayBody is not stored: a replay of it
//     answers 409 saying the request already succeeded.

const (
	headerIdempotencyKey     = "Idempotency-Key"
	headerIdempotentReplayed = "Idempotent-Replayed"

	// maxIdempotencyKey is the longest key accepted, in bytes.
	maxIdempotencyKey = 255
	// idempotencyTTL is how long a key is remembered.
	idempotencyTTL = 24 * time.Hour
	// idempotencyLease is how long a claim may stay pending before a
	// retry takes it over, its request deemed lost with its process: the
	// longest a handler may run (the 30 s write timeout) and a margin.
	idempotencyLease = time.Minute
	// maxReplayBody bounds a stored response body. A record's response,
	// the largest these routes answer, is at most about 130 KiB (two texts
	// of 10,000 characters, every one escaped as \uXXXX).
	maxReplayBody = 256 << 10
	// idempotencyPruneEvery is how many claims an instance makes between
	// two prunings of expired keys; idempotencyPruneBatch bounds the rows
	// one pruning deletes, so that it stays a short statement.
	idempotencyPruneEvery = 64
	idempotencyPruneBatch = 256
	// idempotencyPollMin and idempotencyPollMax bound the pause between
	// two reads of a key another request is running.
	idempotencyPollMin = 20 * time.Millisecond
	idempotencyPollMax = 250 * time.Millisecond
	// idempotencyRetryAfter is the Retry-After of a 409 for a key still
	// running.
	idempotencyRetryAfter = time.Second
)

// Answers about a key.
var (
	errIdempotencyMismatch = newError(fiber.StatusUnprocessableEntity,
		"This Idempotency-Key was already used with a different request (method, path, query or body). Use a new key for a new request.")
	errIdempotencyRunning = &apiError{status: fiber.StatusConflict,
		message:    "A request with this Idempotency-Key is still being processed. Retry later.",
		retryAfter: idempotencyRetryAfter}
	errIdempotencyWithheld = newError(fiber.StatusConflict,
		"A request with this Idempotency-Key already succeeded. Its response is not replayed: it showed a secret once, or was too large to keep.")
)

// msgBadIdempotencyKey is the 400 for a malformed key.
const msgBadIdempotencyKey = "Must be 1 to 255 printable ASCII characters."

// replayPolicy is what a route's replays need beyond the stored response.
type replayPolicy struct {
	// secret: the success response shows a secret once, so its body is
	// never stored and a replay of a success answers 409 instead.
	secret bool
	// audit, when set, is called with a stored success body before it is
	// replayed; a replay is answered only if it returns nil. A replayed
	// body that holds medical data is a read of that data, and every
	// read is in the trail before it is answered.
	audit func(c *fiber.Ctx, body []byte) error
}

// idempotent makes the route's POST safe to retry with an Idempotency-Key
// (see above). It runs after authenticate: keys are per account.
func (s *Server) idempotent(c *fiber.Ctx) error { return s.idempotency(c, replayPolicy{}) }

// idempotentSecret is idempotent for a route whose success response shows
// a secret once (an API token): that body is never stored, and a replay
// of a success answers 409 instead.
func (s *Server) idempotentSecret(c *fiber.Ctx) error {
	return s.idempotency(c, replayPolicy{secret: true})
}

// idempotentRecord is idempotent for the route that creates a medical
// record: a replay of its success serves the record again, and is
// audited as a read of it (record.read), like GET of the record.
func (s *Server) idempotentRecord(c *fiber.Ctx) error {
	return s.idempotency(c, replayPolicy{audit: s.auditRecordReplay})
}

// auditRecordReplay logs the read of the record in a replayed body. The
// body is the one this server stored for the caller's own request, so a
// body it cannot read is an internal error, never an unaudited answer.
func (s *Server) auditRecordReplay(c *fiber.Ctx, body []byte) error {
	var r model.MedicalRecord
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("idempotency: replayed record: %w", err)
	}
	if r.ID == "" {
		return errors.New("idempotency: replayed record has no id")
	}
	return s.reads.Log(c.UserContext(), s.auditEvent(c, currentUser(c).ID, model.ActionRecordRead, model.EntityRecord, r.ID, r.UserID))
}

func (s *Server) idempotency(c *fiber.Ctx, policy replayPolicy) error {
	raw := c.Request().Header.Peek(headerIdempotencyKey)
	if raw == nil {
		return c.Next()
	}
	if !validIdempotencyKey(raw) {
		return fieldError(headerIdempotencyKey, msgBadIdempotencyKey)
	}
	me := currentUser(c)
	if me.ID == "" {
		// A route that forgot authenticate: without an account a key
		// would be shared by everyone.
		return errors.New("idempotency: no authenticated account")
	}
	now := s.now()
	k := db.IdempotencyKey{
		AccountID:   me.ID,
		Method:      strings.Clone(c.Method()),
		Path:        routePattern(c),
		Key:         string(raw),
		RequestHash: requestHash(c),
		Created:     now,
		Expires:     now.Add(idempotencyTTL),
		LeaseUntil:  now.Add(idempotencyLease),
	}
	ctx := c.UserContext()
	deadline := time.Now().Add(s.cfg.IdempotencyWait)
	for {
		k.ClaimID = uuid.NewString()
		held, claimed, err := s.claimIdempotencyKey(ctx, k)
		if err != nil {
			return err
		}
		if claimed {
			return s.runIdempotent(c, k.ClaimID, policy.secret)
		}
		// Another request holds the key: wait for its response while it
		// runs, and claim again if its claim goes (released or lost).
		pause := idempotencyPollMin
		for {
			if !bytes.Equal(held.RequestHash, k.RequestHash) {
				return errIdempotencyMismatch
			}
			if held.Response != nil {
				return s.replay(c, *held.Response, policy)
			}
			if !time.Now().Add(pause).Before(deadline) {
				return errIdempotencyRunning
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(pause):
			}
			pause = min(2*pause, idempotencyPollMax)
			held, err = s.db.Read().IdempotencyKeyOf(ctx, k.AccountID, k.Method, k.Path, k.Key)
			if errors.Is(err, db.ErrNotFound) || (err == nil && !held.Live(s.now())) {
				break
			}
			if err != nil {
				return err
			}
		}
		now := s.now()
		k.Created, k.Expires, k.LeaseUntil = now, now.Add(idempotencyTTL), now.Add(idempotencyLease)
	}
}

// claimIdempotencyKey claims k, pruning expired keys every
// idempotencyPruneEvery claims in the same transaction.
func (s *Server) claimIdempotencyKey(ctx context.Context, k db.IdempotencyKey) (held db.IdempotencyKey, claimed bool, err error) {
	prune := s.idempotencyClaims.Add(1)%idempotencyPruneEvery == 0
	err = s.db.Write(ctx, func(tx db.Tx) error {
		if prune {
			if _, err := tx.DeleteExpiredIdempotencyKeys(ctx, k.Created, idempotencyPruneBatch); err != nil {
				return err
			}
		}
		var err error
		held, claimed, err = tx.ClaimIdempotencyKey(ctx, k, k.Created)
		return err
	})
	return held, claimed, err
}

// runIdempotent runs the handler under the claim claimID and stores its
// response, or releases the key when the response is not to be kept or
// the handler panicked.
func (s *Server) runIdempotent(c *fiber.Ctx, claimID string, secret bool) error {
	// The row is finished with whatever becomes of the request: a client
	// gone or a server shutting down must not leave the key pending.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), 5*time.Second)
	defer cancel()
	settled := false
	defer func() {
		if !settled {
			if err := s.db.Write(ctx, func(tx db.Tx) error { return tx.ReleaseIdempotencyKey(ctx, claimID) }); err != nil {
				s.cfg.Logger.Warn("idempotency key not released", "request_id", requestID(c), "error", err)
			}
		}
	}()
	if err := c.Next(); err != nil {
		// Answer the error now, so the response can be stored.
		if herr := s.handleError(c, err); herr != nil {
			return herr
		}
	}
	res := c.Response()
	status := res.StatusCode()
	if status >= 500 || status == fiber.StatusRequestTimeout || status == fiber.StatusTooManyRequests {
		return nil // released: a retry runs again
	}
	stored := db.IdempotentResponse{
		Status:      status,
		ContentType: string(res.Header.ContentType()),
		Location:    string(res.Header.Peek(fiber.HeaderLocation)),
		ETag:        string(res.Header.Peek(fiber.HeaderETag)),
	}
	body := res.Body()
	if (secret && status < 300) || len(body) > maxReplayBody {
		stored.Withheld = true
	} else {
		stored.Body = bytes.Clone(body)
	}
	err := s.db.Write(ctx, func(tx db.Tx) error { return tx.CompleteIdempotencyKey(ctx, claimID, stored) })
	settled = true
	if err != nil {
		// The response stands (what it created exists); the key stays
		// pending until its lease runs out, when a retry runs again.
		s.cfg.Logger.Warn("idempotency key not completed", "request_id", requestID(c), "error", err)
	}
	return nil
}

// replay answers with a stored response, audited as policy says.
func (s *Server) replay(c *fiber.Ctx, r db.IdempotentResponse, policy replayPolicy) error {
	c.Set(headerIdempotentReplayed, "true")
	if r.Withheld {
		return errIdempotencyWithheld
	}
	if policy.audit != nil && r.Status < 300 {
		if err := policy.audit(c, r.Body); err != nil {
			return err
		}
	}
	if r.Location != "" {
		c.Set(fiber.HeaderLocation, r.Location)
	}
	if r.ETag != "" {
		c.Set(fiber.HeaderETag, r.ETag)
	}
	c.Status(r.Status)
	if r.ContentType != "" {
		c.Set(fiber.HeaderContentType, r.ContentType)
	}
	return c.Send(r.Body)
}

// validIdempotencyKey reports whether key is 1 to maxIdempotencyKey
// printable ASCII characters.
func validIdempotencyKey(key []byte) bool {
	if len(key) == 0 || len(key) > maxIdempotencyKey {
		return false
	}
	for _, b := range key {
		if b < 0x20 || b > 0x7e {
			return false
		}
	}
	return true
}

// routePattern is the matched route's pattern without a trailing slash:
// /api/users and /api/users/ are one route, and so one key.
func routePattern(c *fiber.Ctx) string {
	p := c.Route().Path
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
	}
	return strings.Clone(p)
}

// requestHash is the SHA-256 of what makes a request the same request:
// its method, route, query string and body bytes, each but the last
// prefixed with its length so that no two requests encode alike.
func requestHash(c *fiber.Ctx) []byte {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(c.Method()), []byte(routePattern(c)), c.Request().URI().QueryString()} {
		h.Write(strconv.AppendInt(nil, int64(len(part)), 10))
		h.Write([]byte{':'})
		h.Write(part)
	}
	h.Write(c.Body())
	return h.Sum(nil)
}
