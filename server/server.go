// Package server is Anavara's HTTP API: users, authentication and medical
// records over JSON, built on Fiber. Handlers are grouped by module, one file
// each; errors become responses in one place (errors.go).
package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"github.com/anavara/anavara/audit"
	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/internal/logthrottle"
	"github.com/anavara/anavara/mail"
	"github.com/anavara/anavara/password"
)

// BodyLimit is the largest request body accepted.
const BodyLimit = 1 << 20

// Server is the API: its Fiber app and the dependencies handlers use.
type Server struct {
	cfg    Config
	db     db.Store
	app    *fiber.App
	tokens *auth.Tokens
	// apiTokens issues and checks personal access tokens.
	apiTokens *auth.APITokens
	otp       auth.OTPHasher
	// cursors seal and open the cursors of pages by cursor.
	cursors cursorSealer
	// users serves the account behind each access token.
	users *auth.UserCache
	// reads audits the reads of records, the events of concurrent reads
	// sharing a transaction.
	reads *audit.Writer

	// hasher runs every password hash and verification, a bounded number
	// at once.
	hasher *password.Hasher

	// dummyHash is verified against for unknown emails, so a failed login
	// costs the same whether or not the account exists.
	dummyHash string

	// limiters rate-limit the authentication endpoints.
	limiters *auth.Limiters
	// limitErrors logs limiter failures, a line a minute at most.
	limitErrors *logthrottle.Logger

	// routeLabels names matched routes for logs and metrics.
	routeLabels routeLabels

	// requests counts the requests running in handlers, for Shutdown.
	requests *inflight

	// resetCodes is the worker that issues and mails password-reset codes
	// from the outbox after forgot-password has answered.
	resetCodes *auth.ResetCodes

	// idempotencyClaims counts this instance's Idempotency-Key claims,
	// which prune expired keys every idempotencyPruneEvery.
	idempotencyClaims atomic.Uint64

	// lastHealth is the db.Cause /healthz last answered, so that a change
	// is logged once rather than on every poll.
	lastHealth atomic.Int32
}

// New builds the API server on store, sending email through mailer, and
// starts its password-reset worker (auth.ResetCodes).
func New(cfg Config, store db.Store, mailer mail.Mailer) (*Server, error) {
	s, err := newServer(cfg, store, mailer)
	if err != nil {
		return nil, err
	}
	s.resetCodes.Start()
	return s, nil
}

// newServer builds the API server, its reset-code worker not yet started.
func newServer(cfg Config, store db.Store, mailer mail.Mailer) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	// With the hasher's own costs, so a failed login for an unknown email
	// costs what one for a known email does.
	dummy, err := cfg.Hasher.Hash(context.Background(), "anavara-dummy-password")
	if err != nil {
		return nil, fmt.Errorf("dummy hash: %w", err)
	}
	s := &Server{
		cfg:       cfg,
		db:        store,
		tokens:    auth.NewTokens(cfg.JWTKeys, cfg.AccessTTL, cfg.RefreshTTL, cfg.Now),
		apiTokens: auth.NewAPITokens(cfg.Now),
		otp:       auth.NewOTPHasher(cfg.JWTKeys),
		users:     auth.NewUserCache(store, cfg.Now),
		requests:  newInflight(),
		dummyHash: dummy,
		hasher:    cfg.Hasher,

		limitErrors: logthrottle.New(cfg.Logger, time.Minute, cfg.Now),
	}
	if s.cursors, err = newCursorSealer(cfg.JWTKeys); err != nil {
		return nil, err
	}
	if s.reads = cfg.ReadAudit; s.reads == nil {
		s.reads = audit.NewWriter(store, audit.Options{})
	}
	limits := cfg.RateLimits
	if limits == nil {
		limits = db.RateLimits(store)
	}
	s.limiters = auth.NewLimiters(limits, cfg.Limits, cfg.Now)
	s.app = fiber.New(fiber.Config{
		AppName:               "anavara",
		BodyLimit:             BodyLimit,
		ErrorHandler:          s.handleError,
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		JSONEncoder:           gojson.Marshal,
		JSONDecoder:           json.Unmarshal,
		// Fiber's Protocol, Hostname and BaseURL otherwise believe any
		// client's X-Forwarded-Proto and X-Forwarded-Host; with the check
		// on and no proxy listed they believe none. The client address
		// and links come from clientOrigin and linkBase instead, which
		// trust cfg.TrustedProxies (Fiber's own IP would take the
		// leftmost X-Forwarded-For entry, which the client writes).
		EnableTrustedProxyCheck: true,
		// Multipart bodies are not accepted; without this, fasthttp parses
		// them before any handler and its parse errors reach the client.
		DisablePreParseMultipartForm: true,
	})
	s.routes()
	if err := s.declareQueryParams(); err != nil {
		return nil, err
	}
	s.guardUnknownMethods()
	s.routeLabels = newRouteLabels(s.app)
	s.resetCodes = auth.NewResetCodes(store, mailer, s.otp, cfg.Logger, s.now, cfg.OTPTTL, cfg.ResetPollInterval)
	return s, nil
}

// App returns the Fiber app, for tests (app.Test) and embedding.
func (s *Server) App() *fiber.App { return s.app }

// Serve answers requests on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(ln) }

// Shutdown stops accepting connections, waits for in-flight requests and
// for the reset-code worker to serve the requests due, until ctx ends.
// When it returns, nothing of the server uses the database any more:
// requests still in handlers when ctx ends are waited for, and later ones
// refused with 503; reset requests not served by then stay in the outbox
// for the next start. A write waiting for another process's lock cannot
// be interrupted, so Shutdown may then return up to the database's busy
// timeout after ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.app.ShutdownWithContext(ctx)
	<-s.requests.close()
	if rerr := s.resetCodes.Stop(ctx); err == nil {
		err = rerr
	}
	return err
}

func (s *Server) routes() {
	app := s.app
	app.Use(recover.New())
	app.Use(s.requests.middleware)
	app.Use(requestIDMiddleware)
	app.Use(s.requestLogger)
	app.Use(securityHeaders)
	app.Use(s.clientOrigin)

	app.Get("/healthz", s.health)
	s.docsRoutes(app)

	api := app.Group("/api")

	// Authentication is per route, not per group: a group's middleware
	// runs for every path under its prefix, so an unknown path there would
	// answer 401 instead of 404.
	authed := s.authenticate
	auth := api.Group("/auth")
	auth.Post("/signup", s.signup)
	auth.Post("/login", s.login)
	auth.Post("/token/refresh", s.refreshToken)
	auth.Post("/logout", s.logout)
	auth.Post("/forgot-password", s.forgotPassword)
	auth.Post("/reset-password", s.resetPassword)
	auth.Post("/change-password", authed, s.changePassword)
	auth.Post("/ssh-login", s.requireService, s.sshLogin)
	auth.Post("/ssh-key-check", s.requireService, s.sshKeyCheck)
	auth.Post("/ssh-connection", s.requireService, s.sshConnection)
	auth.Post("/ssh-token", s.requireService, s.sshToken)

	users := api.Group("/users")
	users.Get("/me", authed, s.getMe)
	users.Patch("/me", authed, s.patchMe)
	users.Get("/me/ssh-keys", authed, s.listSSHKeys)
	users.Post("/me/ssh-keys", authed, s.idempotent, s.addSSHKey)
	users.Delete("/me/ssh-keys/:keyID", authed, s.removeSSHKey)
	users.Get("/me/tokens", authed, s.listAPITokens)
	users.Post("/me/tokens", authed, s.idempotentSecret, s.createAPIToken)
	users.Delete("/me/tokens/:tokenID", authed, s.revokeAPIToken)
	users.Get("/me/access-log", authed, s.myAccessLog)
	users.Get("/me/export", authed, s.exportMe)
	users.Get("/", authed, s.listUsers)
	users.Post("/", authed, requireStaff, s.idempotent, s.createUser)
	users.Get("/:id", authed, s.getUser)
	users.Patch("/:id", authed, requireStaff, s.patchUser)
	users.Get("/:id/ssh-keys", authed, requireStaff, s.listSSHKeys)
	users.Delete("/:id/ssh-keys/:keyID", authed, requireStaff, s.removeSSHKey)
	// Staff's, and the person's own; anyone else's is 404 (keyOwner).
	users.Get("/:id/tokens", authed, s.listAPITokens)
	users.Delete("/:id/tokens/:tokenID", authed, s.revokeAPIToken)
	users.Get("/:id/access-log", authed, s.userAccessLog)
	users.Get("/:id/export", authed, s.exportUser)

	records := api.Group("/medical-records")
	records.Get("/", authed, s.listRecords)
	records.Post("/", authed, s.idempotentRecord, s.createRecord)
	records.Get("/:id", authed, s.getRecord)
	records.Put("/:id", authed, s.putRecord)
	records.Patch("/:id", authed, s.patchRecord)
	records.Delete("/:id", authed, s.deleteRecord)

	api.Get("/audit-events", authed, requireStaff, s.listAuditEvents)
	api.Get("/audit-events/head", authed, requireStaff, s.auditHead)
	api.Get("/export", authed, requireStaff, s.exportPopulation)
}
