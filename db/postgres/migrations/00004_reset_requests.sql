-- +goose Up
-- The reset-code outbox (server/reset_codes.go): forgot-password stores a
-- row and answers, the same work whether or not an account has the email;
-- a worker of any instance claims it (SELECT … FOR UPDATE SKIP LOCKED, then
-- a lease until claimed_until), issues and mails the code, and only then
-- deletes it, so a crash after the answer loses no request.
CREATE TABLE reset_requests (
    id            uuid PRIMARY KEY,
    email         text NOT NULL, -- normalised
    ip            text NOT NULL,
    request_id    text NOT NULL,
    requested_at  timestamptz NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    claimed_until timestamptz -- NULL until claimed
);
-- The claim reads requests oldest first and skips those under a lease:
-- this index gives that order with the lease beside it.
CREATE INDEX reset_requests_claim ON reset_requests (requested_at, claimed_until);

-- +goose Down
DROP TABLE reset_requests;
