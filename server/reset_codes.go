package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/mail"
	"github.com/anavara/anavara/model"
)

// resetRequest is one accepted POST /api/auth/forgot-password, waiting for
// the reset-code worker.
type resetRequest struct {
	email     string // normalised
	ip        string
	requestID string
	at        time.Time // the request's time, on the server's clock
	queued    time.Time // when it was queued, for resetWorkerDelay
}

// resetCodeQueue hands forgot-password requests to one worker goroutine,
// which looks the account up, stores a code and mails it. The handler
// answers before any of that, so neither the answer nor its timing tells
// whether an account exists (storing a code is a synced write: milliseconds
// against microseconds). One worker keeps requests in order, so a newer
// code always voids an older one.
type resetCodeQueue struct {
	requests chan resetRequest
	logger   *slog.Logger

	// mu guards closed. A request is queued only while the queue is open,
	// and senders counts those still waiting for room, so that once the
	// queue is closed and senders is zero nothing more can arrive and the
	// worker's drain is final.
	mu      sync.Mutex
	closed  bool
	senders sync.WaitGroup
	// stop closes when the queue is closed and its last sender done; the
	// worker then drains it and exits.
	stop chan struct{}
	// cancel aborts the worker's database work when Shutdown runs out of
	// time; done closes when the worker has exited.
	cancel context.CancelFunc
	done   chan struct{}
}

// resetQueueLength bounds the requests waiting for the worker; the
// forgot-password rate limits keep it far from full.
const resetQueueLength = 256

// resetEnqueueTimeout is how long a request waits for room in a full queue
// before it is dropped (and logged).
const resetEnqueueTimeout = 5 * time.Second

// resetWorkerDelay is how long after a request the worker starts on it,
// so that its lookup, write and sync do not compete with the answer still
// being written: on a 2-core machine that contention alone was visible as
// milliseconds more for existing accounts. Mail arrives this much later.
const resetWorkerDelay = 20 * time.Millisecond

// startResetCodes starts the worker, which issues each queued request's
// code in turn until Shutdown stops it (stopResetCodes).
func (s *Server) startResetCodes() {
	ctx, cancel := context.WithCancel(context.Background())
	q := &resetCodeQueue{
		requests: make(chan resetRequest, resetQueueLength),
		logger:   s.cfg.Logger,
		stop:     make(chan struct{}),
		cancel:   cancel,
		done:     make(chan struct{}),
	}
	s.resetCodes = q
	go func() {
		defer close(q.done)
		for {
			select {
			case r := <-q.requests:
				s.issueResetCode(ctx, r)
			case <-q.stop:
				// Closed: nothing more can be queued, so this drain is
				// final.
				for {
					select {
					case r := <-q.requests:
						s.issueResetCode(ctx, r)
					default:
						return
					}
				}
			}
		}
	}()
}

// stopResetCodes closes the queue and waits until the worker has issued
// every queued code, or until ctx ends; then it aborts the worker's
// database work and waits for it to exit, so that the caller may close the
// database once it returns.
func (s *Server) stopResetCodes(ctx context.Context) error {
	q := s.resetCodes
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		// Senders already waiting finish (the worker keeps taking
		// requests meanwhile); no new one can start.
		go func() {
			q.senders.Wait()
			close(q.stop)
		}()
	}
	q.mu.Unlock()
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		q.cancel()
		<-q.done
		return ctx.Err()
	}
}

// enqueue queues r for the worker, waiting up to resetEnqueueTimeout for
// room; waiting senders are served in order. Strings are copied: Fiber's
// request strings point into buffers it reuses after the handler returns.
func (q *resetCodeQueue) enqueue(r resetRequest) {
	r.email, r.ip, r.requestID = strings.Clone(r.email), strings.Clone(r.ip), strings.Clone(r.requestID)
	r.queued = time.Now()
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		q.logger.Warn("password reset request dropped: server shutting down", "request_id", r.requestID)
		return
	}
	q.senders.Add(1)
	q.mu.Unlock()
	defer q.senders.Done()
	timer := time.NewTimer(resetEnqueueTimeout)
	defer timer.Stop()
	select {
	case q.requests <- r:
	case <-timer.C:
		q.logger.Error("password reset request dropped: queue full", "request_id", r.requestID)
	}
}

// issueResetCode stores a new code for r's account, if it exists and is
// active, voiding older ones, audits the request and mails the code.
// Failures, panics included, are logged: the client has had its answer.
func (s *Server) issueResetCode(ctx context.Context, r resetRequest) {
	fail := func(err error) {
		s.cfg.Logger.Error("issuing password reset code failed", "request_id", r.requestID, "error", err)
	}
	defer func() {
		if p := recover(); p != nil {
			fail(fmt.Errorf("panic: %v", p))
		}
	}()
	if wait := resetWorkerDelay - time.Since(r.queued); wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
	}
	if err := ctx.Err(); err != nil {
		fail(err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	u, err := s.db.Read().UserByEmail(ctx, r.email)
	if errors.Is(err, db.ErrNotFound) || (err == nil && !u.IsActive) {
		return
	}
	if err != nil {
		fail(err)
		return
	}
	code, err := newOTPCode()
	if err != nil {
		fail(err)
		return
	}
	err = s.db.Write(ctx, func(q db.Tx) error {
		if err := q.CreateOTP(ctx, db.OTPCode{
			ID: uuid.NewString(), UserID: u.ID, Hash: s.otp.hash(u.ID, code), Created: r.at, ExpiresAt: r.at.Add(s.cfg.OTPTTL),
		}); err != nil {
			return err
		}
		return q.InsertAudit(ctx, newAuditEvent(r.at, r.ip, "", model.ActionResetRequested, model.EntityUser, u.ID))
	})
	if err != nil {
		fail(err)
		return
	}
	s.sendResetCode(u.Email, u.FirstName, code)
}

// sendResetCode mails the code in the background, so a slow mail server
// does not hold up the next request's code.
func (s *Server) sendResetCode(to, name, code string) {
	minutes := int(s.cfg.OTPTTL / time.Minute)
	msg := mail.Message{
		To:      to,
		Subject: "Your Anavara password reset code",
		Body: fmt.Sprintf("Hello %s,\n\nYour password reset code is %s. It expires in %d minutes and works once.\n\n"+
			"If you did not ask to reset your password, ignore this email: your password stays as it is.\n", name, code, minutes),
	}
	s.background.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.mailer.Send(ctx, msg); err != nil {
			s.cfg.Logger.Error("sending password reset email failed", "error", err)
		}
	})
}

// newOTPCode returns six uniformly random digits.
func newOTPCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("reset code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}
