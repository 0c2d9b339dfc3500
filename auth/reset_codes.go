package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/mail"
	"github.com/anavara/anavara/model"
)

// Password-reset codes go out through an outbox, the table reset_requests
// (db.ResetRequest). POST /api/auth/forgot-password stores a row and
// answers: the same write whether or not an account has the email, so
// neither the answer nor its timing tells (issuing a code is a synced
// write more: milliseconds against microseconds). A worker — one per
// server, and several servers may share a PostgreSQL database — claims
// rows under a lease, looks the account up, issues the code and mails it,
// and deletes the row only once the mailer took the message. So a crash
// after the answer loses nothing: the row stays, and the next worker to
// find it (this server after a restart, or another instance) issues a
// fresh code — mail is sent at least once, and a retry's code voids the
// unsent one. Workers may serve one account's requests out of order;
// db.Tx.CreateOTP lets the newer request's code win.

// ResetCodes runs the outbox worker of one server.
type ResetCodes struct {
	store  db.Store
	mailer mail.Mailer
	otp    OTPHasher
	logger *slog.Logger
	// now is the clock, at the precision the database stores.
	now func() time.Time
	// otpTTL is how long a code lives.
	otpTTL time.Duration
	// poll is how often the worker looks for requests it was not nudged
	// about: left by a crashed process or accepted by another instance.
	poll time.Duration
	// nudges wakes the worker after this server stored a request, so its
	// mail goes out within milliseconds, not at the next poll. Buffered:
	// one pending nudge covers every request stored before the worker
	// wakes.
	nudges chan struct{}

	// mu guards started and stopped.
	mu      sync.Mutex
	started bool
	stopped bool
	// stop closes when Stop begins: the worker serves what is due
	// once more and exits.
	stop chan struct{}
	// cancel aborts the worker's work when Stop runs out of time;
	// done closes when the worker has exited.
	cancel context.CancelFunc
	ctx    context.Context
	done   chan struct{}
}

// resetLease is how long a claimed request is a worker's alone. It
// exceeds what serving one takes at most (resetIssueTimeout and
// resetMailTimeout), so only a worker that died gives its requests up to
// another; one that failed to mail gets them back when it runs out.
const resetLease = 2 * time.Minute

// resetIssueTimeout bounds the lookup and the write that issue one code,
// resetMailTimeout the mail that sends it.
const (
	resetIssueTimeout = 30 * time.Second
	resetMailTimeout  = 30 * time.Second
)

// resetMaxAttempts is how many times a request is tried before it is
// dropped (and logged): a mail server that refuses an address five times
// will not take it the sixth.
const resetMaxAttempts = 5

// resetClaimBatch is the most requests a worker claims at once; they are
// served concurrently, so that one slow mail does not hold the others up.
const resetClaimBatch = 8

// resetWorkerDelay is how long after a request the worker starts issuing
// its code, so that the lookup, the write and its sync do not compete with
// the answer still being written: on a 2-core machine that contention
// alone was visible as milliseconds more for existing accounts. Mail
// arrives this much later.
const resetWorkerDelay = 20 * time.Millisecond

// NewResetCodes prepares the worker of a server on store: it mails codes
// through mailer, hashes them with otp, logs to logger, reads the time
// from now (at the precision the database stores), issues codes that live
// otpTTL and looks in the outbox every poll besides when nudged. Start
// runs it.
func NewResetCodes(store db.Store, mailer mail.Mailer, otp OTPHasher, logger *slog.Logger, now func() time.Time, otpTTL, poll time.Duration) *ResetCodes {
	ctx, cancel := context.WithCancel(context.Background())
	return &ResetCodes{
		store:  store,
		mailer: mailer,
		otp:    otp,
		logger: logger,
		now:    now,
		otpTTL: otpTTL,
		poll:   poll,
		nudges: make(chan struct{}, 1),
		stop:   make(chan struct{}),
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
	}
}

// Start runs the worker until Stop. Once stopped, it does not start
// again.
func (w *ResetCodes) Start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started || w.stopped {
		return
	}
	w.started = true
	go func() {
		defer close(w.done)
		poll := time.NewTimer(w.poll)
		defer poll.Stop()
		for {
			select {
			case <-w.stop:
				// The requests this server answered are served before
				// it goes, as far as Stop's time allows.
				w.serveResetRequests(w.ctx)
				return
			case <-w.nudges:
				select {
				case <-time.After(resetWorkerDelay):
				case <-w.stop:
				}
			case <-poll.C:
				due, err := w.store.Read().ResetRequestsDue(w.ctx, w.now())
				if err != nil && w.ctx.Err() == nil {
					w.store.Observe(err)
					w.logger.Error("looking for password reset requests failed", "error", err)
				}
				if !due {
					poll.Reset(w.poll)
					continue
				}
			}
			w.serveResetRequests(w.ctx)
			poll.Reset(w.poll)
		}
	}()
}

// nudge wakes the worker without waiting for it.
func (w *ResetCodes) nudge() {
	select {
	case w.nudges <- struct{}{}:
	default: // a nudge is pending already
	}
}

// Stop stops the worker: it serves the requests due now and exits, or,
// when ctx ends first, abandons them — they stay in the outbox for the
// next start — and exits. It returns once the worker has, so that the
// caller may close the database.
func (w *ResetCodes) Stop(ctx context.Context) error {
	w.mu.Lock()
	started := w.started
	if !w.stopped {
		w.stopped = true
		close(w.stop)
	}
	w.mu.Unlock()
	if !started {
		w.cancel()
		return nil
	}
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		w.cancel()
		<-w.done
		return ctx.Err()
	}
}

// serveResetRequests claims and serves due requests, a batch at a time,
// until none is left or ctx ends.
func (w *ResetCodes) serveResetRequests(ctx context.Context) {
	for ctx.Err() == nil {
		var batch []db.ResetRequest
		err := w.store.Write(ctx, func(q db.Tx) error {
			var err error
			batch, err = q.ClaimResetRequests(ctx, w.now(), resetLease, resetClaimBatch)
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				w.logger.Error("claiming password reset requests failed", "error", err)
			}
			return
		}
		if len(batch) == 0 {
			return
		}
		var wg sync.WaitGroup
		for _, r := range batch {
			wg.Go(func() { w.serveResetRequest(ctx, r) })
		}
		wg.Wait()
	}
}

// serveResetRequest issues and mails r's code, if its account exists and
// is active, and then deletes r. Failures, panics included, are logged
// and leave r for another attempt once its lease runs out.
func (w *ResetCodes) serveResetRequest(ctx context.Context, r db.ResetRequest) {
	log := w.logger.With("request_id", r.RequestID, "attempt", r.Attempts)
	fail := func(what string, err error) {
		if r.Attempts >= resetMaxAttempts {
			log.Error(what+"; giving up on the password reset request", "error", err)
			w.deleteResetRequest(ctx, r)
			return
		}
		log.Error(what+"; the password reset request will be tried again", "error", err, "retry_after", resetLease)
	}
	defer func() {
		if p := recover(); p != nil {
			fail("issuing password reset code panicked", fmt.Errorf("panic: %v", p))
		}
	}()
	if r.Attempts > resetMaxAttempts {
		// Claimed before by a worker that died while serving it.
		log.Error("password reset request dropped after too many attempts")
		w.deleteResetRequest(ctx, r)
		return
	}
	if age := w.now().Sub(r.RequestedAt); age >= w.otpTTL {
		// Its code would have expired already: sending it helps nobody.
		log.Warn("password reset request dropped: older than a code's lifetime", "age", age)
		w.deleteResetRequest(ctx, r)
		return
	}
	if wait := resetWorkerDelay - w.now().Sub(r.RequestedAt); wait > 0 {
		select {
		case <-time.After(min(wait, resetWorkerDelay)):
		case <-ctx.Done():
			return
		}
	}
	u, code, err := w.issueResetCode(ctx, r)
	switch {
	case errors.Is(err, db.ErrNotFound):
		// No such active account: no code, no mail.
		w.deleteResetRequest(ctx, r)
		return
	case errors.Is(err, db.ErrSuperseded):
		log.Info("password reset request superseded by a newer one: no code sent")
		w.deleteResetRequest(ctx, r)
		return
	case err != nil:
		if ctx.Err() == nil {
			fail("issuing password reset code failed", err)
		}
		return
	}
	if err := w.sendResetCode(ctx, u.Email, u.FirstName, code); err != nil {
		if ctx.Err() == nil {
			fail("sending password reset email failed", err)
		}
		return
	}
	w.deleteResetRequest(ctx, r)
}

// issueResetCode stores a new code for r's account, voiding older ones,
// and audits the request, in one transaction. It returns db.ErrNotFound
// when no active account has r's email, and db.ErrSuperseded when a newer
// request's code was issued first.
func (w *ResetCodes) issueResetCode(ctx context.Context, r db.ResetRequest) (db.UserRow, string, error) {
	ctx, cancel := context.WithTimeout(ctx, resetIssueTimeout)
	defer cancel()
	u, err := w.store.Read().UserByEmail(ctx, r.Email)
	if err == nil && !u.IsActive {
		err = db.ErrNotFound
	}
	if err != nil {
		return u, "", err
	}
	code, err := NewOTPCode()
	if err != nil {
		return u, "", err
	}
	err = w.store.Write(ctx, func(q db.Tx) error {
		if err := q.CreateOTP(ctx, db.OTPCode{
			ID: uuid.NewString(), UserID: u.ID, Hash: w.otp.Hash(u.ID, code), Created: r.RequestedAt, ExpiresAt: r.RequestedAt.Add(w.otpTTL),
		}); err != nil {
			return err
		}
		return q.InsertAudit(ctx, NewAuditEvent(r.RequestedAt, r.IP, "", model.ActionResetRequested, model.EntityUser, u.ID))
	})
	return u, code, err
}

// deleteResetRequest removes a served request from the outbox. Not under
// ctx alone: once the mail is out, a Stop running out of time must not
// leave the row to be mailed again.
func (w *ResetCodes) deleteResetRequest(ctx context.Context, r db.ResetRequest) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resetIssueTimeout)
	defer cancel()
	if err := w.store.Write(ctx, func(q db.Tx) error { return q.DeleteResetRequest(ctx, r.ID) }); err != nil {
		w.logger.Error("deleting a served password reset request failed; it may be mailed again", "request_id", r.RequestID, "error", err)
	}
}

// sendResetCode mails the code and returns once the mailer has taken it.
func (w *ResetCodes) sendResetCode(ctx context.Context, to, name, code string) error {
	minutes := int(w.otpTTL / time.Minute)
	msg := mail.Message{
		To:      to,
		Subject: "Your Anavara password reset code",
		Body: fmt.Sprintf("Hello %s,\n\nYour password reset code is %s. It expires in %d minutes and works once.\n\n"+
			"If you did not ask to reset your password, ignore this email: your password stays as it is.\n", name, code, minutes),
	}
	ctx, cancel := context.WithTimeout(ctx, resetMailTimeout)
	defer cancel()
	if err := w.mailer.Send(ctx, msg); err != nil {
		return fmt.Errorf("send reset code: %w", err)
	}
	return nil
}

// Request stores a forgot-password request for email, from client
// address ip, in the outbox and wakes the worker. requestID names the
// HTTP request in the worker's logs; at is when it was asked. It does the
// same whether or not an account has the email.
func (w *ResetCodes) Request(ctx context.Context, email, ip, requestID string, at time.Time) error {
	r := db.ResetRequest{ID: uuid.NewString(), Email: email, IP: ip, RequestID: requestID, RequestedAt: at}
	if err := w.store.Write(ctx, func(q db.Tx) error { return q.EnqueueResetRequest(ctx, r) }); err != nil {
		return err
	}
	w.nudge()
	return nil
}
