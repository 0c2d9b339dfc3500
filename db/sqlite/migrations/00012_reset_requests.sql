-- +goose Up
-- The reset-code outbox (server/reset_codes.go): forgot-password stores a
-- row and answers, the same work whether or not an account has the email;
-- a worker claims it (a lease until claimed_until), issues and mails the
-- code, and only then deletes it, so a crash after the answer loses no
-- request. Times are Unix microseconds, like every other time here.
CREATE TABLE reset_requests (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL, -- normalised
    ip            TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    requested_at  INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    claimed_until INTEGER -- NULL until claimed
);
-- The claim reads requests oldest first and skips those under a lease:
-- this index gives that order with the lease beside it, so the claim
-- reads no row it does not return except leased ones.
CREATE INDEX reset_requests_claim ON reset_requests (requested_at, claimed_until);

-- +goose Down
DROP TABLE reset_requests;
