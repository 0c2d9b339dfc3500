package db

import (
	"context"
	"time"

	"github.com/anavara/anavara/audit/chain"
	"github.com/anavara/anavara/model"
)

// Text handed to a store is valid UTF-8 without NUL characters: the
// server refuses anything else at the boundary (model.ValidateText), and
// PostgreSQL's text type holds nothing else. Ids are lower-case canonical
// UUIDs; a malformed id finds nothing (ErrNotFound, or an empty page).

// Store is an opened Anavara database, whatever its engine. The server,
// the SSH front end and the commands see only this interface; each engine
// (db/sqlite, db/postgres) implements it, and one conformance suite
// (db/dbtest) holds every engine to the same answers.
type Store interface {
	// Read returns queries that run outside any transaction, each on a
	// snapshot of its own.
	Read() Reader
	// Write runs fn inside one transaction, committing when fn returns nil
	// and rolling back otherwise: everything fn does lands together or not
	// at all. A Tx's reads lock the rows they return until the transaction
	// ends, so that a check fn makes still holds when it writes. An engine
	// may run fn more than once (a serialization failure retried), so fn
	// must not have effects outside the transaction.
	Write(ctx context.Context, fn func(Tx) error) error
	// AppendAudits appends es to the audit trail, in order, as a
	// transaction of their own: what Write running Tx.InsertAudits does,
	// all of es or none of it, at the engine's least cost. On PostgreSQL
	// that is one round trip to the server, the transaction's statements
	// and its commit pipelined, where Write takes three (BEGIN, the
	// statements, COMMIT); package audit writes the events of reads with
	// it, and a read is answered only after its event's commit, so the
	// round trips are on every read's path.
	AppendAudits(ctx context.Context, es []model.AuditEvent) error
	// Ping checks that the database answers a query.
	Ping(ctx context.Context) error
	// Health reports whether the database can be read and written; its
	// answer is cached for a short interval, so polling it is cheap.
	Health() Health
	// Observe records an error a caller got from a Reader, so that Health
	// reports the failure behind it. Write observes its own errors.
	Observe(err error)
	// UsersVersion changes whenever a write transaction of this process
	// that wrote the users table ends, and, on an engine that hears other
	// processes' changes (PostgreSQL's LISTEN/NOTIFY), whenever one of
	// theirs is announced. cacheable is false while the store cannot vouch
	// for that (its listener is not connected, so announcements may be
	// missed): a caller must then read user rows afresh rather than reuse
	// any (see auth/user_cache.go). Both come from one moment.
	UsersVersion() (version uint64, cacheable bool)
	// Pools reports the engine's connection pools, for metrics.
	Pools() []PoolStats
	// Engine names the engine: "sqlite" or "postgres".
	Engine() string
	// Version is the schema version the database is at.
	Version(ctx context.Context) (int64, error)
	// RecountSearchWords rebuilds, from the records, how many records hold
	// each word of the records search, which searches trust to leave out
	// a word of every record: anavara migrate runs it, after writes that
	// bypassed the code (an older build's, during an upgrade) that Open's
	// cheaper check could miss.
	RecountSearchWords(ctx context.Context) error
	// Snapshot runs fn on one consistent, read-only view of the whole
	// database, as it was when Snapshot began, for exports and the audit
	// chain's verification. It blocks no writer: on SQLite it is a read
	// transaction of the write-ahead log, on PostgreSQL a repeatable-read,
	// read-only transaction. ctx ends it.
	Snapshot(ctx context.Context, fn func(Snapshot) error) error
	// Close closes every connection.
	Close() error
}

// Reader is every query that reads. Inside a Tx, the single-row reads
// (by id, email, hash, fingerprint, and ActiveOTP) lock the row they return.
type Reader interface {
	// UserByID returns the user with id, or ErrNotFound.
	UserByID(ctx context.Context, id string) (UserRow, error)
	// UserByEmail returns the user with email, compared case-insensitively,
	// or ErrNotFound.
	UserByEmail(ctx context.Context, email string) (UserRow, error)
	// ListUsers returns one page of users, oldest first, and the number
	// matching f.
	ListUsers(ctx context.Context, f UserFilter) ([]model.User, int, error)

	// RecordByID returns the record with id, or ErrNotFound.
	RecordByID(ctx context.Context, id string) (model.MedicalRecord, error)
	// ListRecords returns one page of records and the number matching f.
	ListRecords(ctx context.Context, f RecordFilter) ([]model.MedicalRecord, int, error)

	// SSHKeysOf lists a user's keys, oldest first.
	SSHKeysOf(ctx context.Context, userID string) ([]model.SSHKey, error)
	// SSHKeyByFingerprint returns the key with fingerprint, or ErrNotFound.
	SSHKeyByFingerprint(ctx context.Context, fingerprint string) (SSHKeyRow, error)

	// RefreshTokenByHash returns the token whose hash is hash, or
	// ErrNotFound.
	RefreshTokenByHash(ctx context.Context, hash []byte) (RefreshToken, error)
	// RefreshTokenByID returns the token with id, or ErrNotFound.
	RefreshTokenByID(ctx context.Context, id string) (RefreshToken, error)

	// APITokenByHash returns the API token, revoked or not, whose secret's
	// hash is hash, or ErrNotFound.
	APITokenByHash(ctx context.Context, hash []byte) (APITokenRow, error)
	// APITokensOf returns one page of f.UserID's tokens that are not
	// revoked, newest first, and their number.
	APITokensOf(ctx context.Context, f APITokenFilter) ([]model.APIToken, int, error)
	// LiveAPITokens counts userID's tokens that are neither revoked nor
	// expired at at.
	LiveAPITokens(ctx context.Context, userID string, at time.Time) (int, error)

	// ActiveOTP returns the user's newest unused code that has not expired
	// at now and has attempts left, or ErrNotFound.
	ActiveOTP(ctx context.Context, userID string, now time.Time, maxAttempts int) (OTPCode, error)

	// ListAudit returns one page of events, newest first, and the number
	// matching f.
	ListAudit(ctx context.Context, f AuditFilter) ([]model.AuditEvent, int, error)

	// AccessLog returns one page of f.SubjectID's access log, newest first,
	// and the number of its events: the events whose SubjectIDs hold the
	// account and whose actor is someone else (or nobody), and every
	// population export, which concerns everyone.
	AccessLog(ctx context.Context, f AccessLogFilter) ([]model.AuditEvent, int, error)
	// AuditHead returns the newest link of the audit trail's hash chain.
	AuditHead(ctx context.Context) (model.AuditHead, error)

	// ResetRequestsDue reports whether a reset request waits in the outbox
	// that Tx.ClaimResetRequests would claim at now: a read, so that a
	// worker polling an empty outbox writes nothing.
	ResetRequestsDue(ctx context.Context, now time.Time) (bool, error)

	// IdempotencyKeyOf returns the stored key of accountID, method and
	// path named key, live or not (IdempotencyKey.Live), or ErrNotFound.
	IdempotencyKeyOf(ctx context.Context, accountID, method, path, key string) (IdempotencyKey, error)
}

// Tx is one write transaction: every read, and every write.
type Tx interface {
	Reader

	// Records and users carry a Version (model.MedicalRecord.Version,
	// model.User.Version): 1 when created, whatever the row passed in
	// holds, and one more after every write that changes what the row's
	// JSON shows. The server compares it with If-Match on the row it read
	// (and so locked) in the same transaction.

	// CreateUser inserts u at version 1; ErrConflict when the email is
	// taken.
	CreateUser(ctx context.Context, u UserRow) error
	// UpdateUser stores u's names, staff and active flags and updated
	// time and bumps the user's version; ErrNotFound when there is no such
	// user.
	UpdateUser(ctx context.Context, u model.User) error
	// SetPassword stores a new password hash, bumps the user's token
	// version, so every access token issued before now stops working, and
	// bumps the user's version (the updated time changes).
	SetPassword(ctx context.Context, id, hash string, at time.Time) error
	// InvalidateAccessTokens bumps the user's token version for good; the
	// user's version stays, as nothing the API shows changes.
	InvalidateAccessTokens(ctx context.Context, id string) error

	// CreateRecord inserts r at version 1 and counts it.
	CreateRecord(ctx context.Context, r model.MedicalRecord) error
	// UpdateRecord stores every writable field of r and its updated time
	// and bumps the record's version; ErrNotFound when there is no such
	// record.
	UpdateRecord(ctx context.Context, r model.MedicalRecord) error
	// DeleteRecord removes the record with id and uncounts it;
	// ErrNotFound when there is none.
	DeleteRecord(ctx context.Context, id string) error

	// CreateOTP issues c, a code of a request made at c.Created: it locks
	// the user's row, so that codes of one account are issued one at a
	// time on every engine, voids the user's unused codes created no later
	// than c, and inserts c. When the user already has a code created
	// after c — a newer request, served first by another worker — it
	// inserts nothing and returns ErrSuperseded: the newer code wins. On a
	// user that does not exist it returns ErrNotFound.
	CreateOTP(ctx context.Context, c OTPCode) error
	// CountOTPAttempt records one wrong guess against the code.
	CountOTPAttempt(ctx context.Context, id string) error
	// UseOTP marks the code used; ErrConflict if it already was.
	UseOTP(ctx context.Context, id string, at time.Time) error

	// EnqueueResetRequest stores r in the reset-code outbox, unclaimed and
	// with no attempts, whatever r's Attempts and ClaimedUntil hold.
	EnqueueResetRequest(ctx context.Context, r ResetRequest) error
	// ClaimResetRequests claims up to limit requests, oldest requested
	// first, that are unclaimed or whose lease ran out before now: each
	// gets the lease until now+lease and one more attempt, and is
	// returned as it now is. Two transactions claiming at once never get
	// the same request (on PostgreSQL the second skips the rows the first
	// has locked), so several workers, of several instances, share the
	// outbox.
	ClaimResetRequests(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]ResetRequest, error)
	// DeleteResetRequest removes the request with id from the outbox; a
	// request already gone is no error (another worker finished it after
	// this one's lease ran out).
	DeleteResetRequest(ctx context.Context, id string) error

	// CreateRefreshToken inserts t.
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// MarkRefreshTokenUsed records that the token was rotated, by the
	// client with fingerprint rotatedBy, into the token childID;
	// ErrConflict when it was already used or revoked.
	MarkRefreshTokenUsed(ctx context.Context, id string, at time.Time, rotatedBy []byte, childID string) error
	// UseRefreshGrace records that a replay of the rotated token was
	// answered within the grace window; ErrConflict when the grace was
	// already used or the token revoked.
	UseRefreshGrace(ctx context.Context, id string, at time.Time) error
	// RevokeRefreshToken revokes one token.
	RevokeRefreshToken(ctx context.Context, id string, at time.Time) error
	// RevokeRefreshFamily revokes every token of a family.
	RevokeRefreshFamily(ctx context.Context, familyID string, at time.Time) error
	// RevokeUserRefreshTokens revokes every token of a user.
	RevokeUserRefreshTokens(ctx context.Context, userID string, at time.Time) error
	// DeleteExpiredRefreshTokens removes tokens that expired before cutoff
	// and returns how many.
	DeleteExpiredRefreshTokens(ctx context.Context, cutoff time.Time) (int64, error)

	// CreateAPIToken inserts t, unrevoked and never used, whatever t's
	// RevokedAt and LastUsed hold; ErrConflict when its hash is taken.
	CreateAPIToken(ctx context.Context, t APITokenRow) error
	// RevokeAPIToken revokes userID's token id at at; ErrNotFound when
	// userID has no such token, or it is revoked already.
	RevokeAPIToken(ctx context.Context, userID, id string, at time.Time) error
	// RevokeUserAPITokens revokes every token of userID not revoked yet at
	// at, and returns their ids (none: an empty slice).
	RevokeUserAPITokens(ctx context.Context, userID string, at time.Time) ([]string, error)
	// TouchAPIToken records that token id authenticated a request at at,
	// unless its LastUsed is already later than at less
	// APITokenTouchInterval: concurrent requests of one token write once.
	TouchAPIToken(ctx context.Context, id string, at time.Time) error

	// CreateSSHKey inserts k; ErrConflict when the key is linked already.
	CreateSSHKey(ctx context.Context, k SSHKeyRow) error
	// DeleteSSHKey removes key id of userID; ErrNotFound if there is none.
	DeleteSSHKey(ctx context.Context, userID, id string) error
	// TouchSSHKey records that the key signed someone in at at.
	TouchSSHKey(ctx context.Context, id string, at time.Time) error

	// InsertAudit appends e to the audit trail and counts it under its
	// action, in the transaction of the change it records.
	InsertAudit(ctx context.Context, e model.AuditEvent) error
	// InsertAudits appends es as InsertAudit appends each, in order, in
	// one round trip to the server where the engine has one (PostgreSQL):
	// the events of concurrent reads, written together (package audit).
	InsertAudits(ctx context.Context, es []model.AuditEvent) error

	// ClaimIdempotencyKey stores k, pending (its Response ignored), unless
	// a live row (IdempotencyKey.Live at now) has its account, method,
	// path and key already: it returns the row now stored and whether k
	// claimed it. A row that is not live is replaced. Two transactions
	// claiming one key at once never both claim it: on PostgreSQL the
	// second waits for the first to end.
	ClaimIdempotencyKey(ctx context.Context, k IdempotencyKey, now time.Time) (IdempotencyKey, bool, error)
	// CompleteIdempotencyKey stores r as the response of the claim
	// claimID; ErrNotFound when that claim no longer holds its row.
	CompleteIdempotencyKey(ctx context.Context, claimID string, r IdempotentResponse) error
	// ReleaseIdempotencyKey deletes the row the claim claimID holds, so
	// that the key runs again; a claim gone already is no error.
	ReleaseIdempotencyKey(ctx context.Context, claimID string) error
	// DeleteExpiredIdempotencyKeys deletes up to limit rows that expired
	// at or before now and returns how many.
	DeleteExpiredIdempotencyKeys(ctx context.Context, now time.Time, limit int) (int64, error)
}

// Snapshot is a consistent, read-only view of the whole database
// (Store.Snapshot): its Reader queries and its walks all see the same
// moment. A walk calls fn once per row, in order, holding no more than a
// batch of rows in memory, and stops at fn's first error, returning it.
type Snapshot interface {
	Reader
	// EachUser walks every account, oldest first (created, then id).
	EachUser(ctx context.Context, fn func(model.User) error) error
	// EachRecord walks the records of userID, or of everyone when userID
	// is empty, by owner and then oldest first (created, then id).
	EachRecord(ctx context.Context, userID string, fn func(model.MedicalRecord) error) error
	// EachAudit walks the whole audit trail in chain order (Seq), with
	// the events the chain does not hold (Seq 0: written around the
	// API, or by a version before the chain) after it, oldest first.
	EachAudit(ctx context.Context, fn func(model.AuditEvent) error) error
	// At is the moment the snapshot shows, by the database's clock.
	At() time.Time
}

// StoredAuditWalker is a Snapshot that can also walk the audit trail as
// stored, for the chain's verifier (chain.WalkStored): the same events in
// the same order as EachAudit, each handed over as its row's bytes,
// building no model.AuditEvent. Verifying a million events is then
// mostly the database's own read (BENCHMARKS.md).
type StoredAuditWalker interface {
	EachStoredAudit(ctx context.Context, fn func(*chain.Stored) error) error
}

// PoolStats describes one connection pool of a store.
type PoolStats struct {
	// Name is the pool's role: "writer" and "reader" on SQLite, "pool" on
	// PostgreSQL.
	Name         string
	Open         int
	InUse        int
	Idle         int
	MaxOpen      int
	WaitCount    int64
	WaitDuration time.Duration
}
