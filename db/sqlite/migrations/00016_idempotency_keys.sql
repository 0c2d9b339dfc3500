-- +goose Up
-- Idempotency-Key (server/idempotency.go): a POST that creates something,
-- sent with a key, claims the key's row while it runs and stores its
-- response, so that a retry with the same key is answered with that
-- response instead of creating again. Times are Unix microseconds.
CREATE TABLE idempotency_keys (
    account_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL, -- the route's pattern
    key          TEXT NOT NULL,
    claim_id     TEXT NOT NULL, -- the claim holding the row
    request_hash BLOB NOT NULL, -- SHA-256 of the first request
    created      INTEGER NOT NULL,
    expires      INTEGER NOT NULL,
    lease_until  INTEGER NOT NULL, -- a pending claim is abandoned after it
    status       INTEGER, -- NULL while the first request runs
    content_type TEXT NOT NULL DEFAULT '',
    location     TEXT NOT NULL DEFAULT '',
    etag         TEXT NOT NULL DEFAULT '',
    body         BLOB,
    withheld     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, method, path, key)
) WITHOUT ROWID;
-- Completing and releasing find the row by its claim; pruning reads the
-- oldest expiries first.
CREATE UNIQUE INDEX idempotency_keys_claim ON idempotency_keys (claim_id);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires);

-- +goose Down
DROP TABLE idempotency_keys;
