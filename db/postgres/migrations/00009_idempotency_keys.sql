-- +goose Up
-- Idempotency-Key (server/idempotency.go): a POST that creates something,
-- sent with a key, claims the key's row while it runs and stores its
-- response, so that a retry with the same key, on any instance, is
-- answered with that response instead of creating again.
CREATE TABLE idempotency_keys (
    account_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    method       text NOT NULL,
    path         text NOT NULL, -- the route's pattern
    key          text NOT NULL,
    claim_id     uuid NOT NULL, -- the claim holding the row
    request_hash bytea NOT NULL, -- SHA-256 of the first request
    created      timestamptz NOT NULL,
    expires      timestamptz NOT NULL,
    lease_until  timestamptz NOT NULL, -- a pending claim is abandoned after it
    status       integer, -- NULL while the first request runs
    content_type text NOT NULL DEFAULT '',
    location     text NOT NULL DEFAULT '',
    etag         text NOT NULL DEFAULT '',
    body         bytea,
    withheld     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (account_id, method, path, key)
);
-- Completing and releasing find the row by its claim; pruning reads the
-- oldest expiries first.
CREATE UNIQUE INDEX idempotency_keys_claim ON idempotency_keys (claim_id);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires);

-- +goose Down
DROP TABLE idempotency_keys;
