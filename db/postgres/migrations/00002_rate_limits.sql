-- +goose Up
-- Rate limits shared by every anavara serve on this database (package
-- ratelimit; db/postgres/limits.go). Keys (addresses, emails, user ids) are
-- stored only as HMAC-SHA-256 under rate_limit_key's secret, so the tables
-- hold no personal data. Rows past their expiry mean nothing and are
-- pruned, a bounded batch at a time.

-- The HMAC secret, made once here from PostgreSQL's strong random source
-- (gen_random_uuid, 122 random bits each).
CREATE TABLE rate_limit_key (
    id     integer PRIMARY KEY CHECK (id = 1),
    secret bytea NOT NULL
);
INSERT INTO rate_limit_key (id, secret)
VALUES (1, decode(replace(gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

-- One row per limit (name) and key: the generic cell rate algorithm's
-- theoretical arrival time. A key whose tat has passed has its whole
-- allowance again, as one without a row does. allowed is the last check's
-- answer, returned by the same upsert that made it.
CREATE TABLE rate_limits (
    name    text NOT NULL,
    key     bytea NOT NULL,
    tat     timestamptz NOT NULL,
    allowed boolean NOT NULL DEFAULT true,
    PRIMARY KEY (name, key)
);
CREATE INDEX rate_limits_tat ON rate_limits (tat);

-- The per-account login back-off (ratelimit.BackoffState), one row per
-- limit and key; expires_at is when the row is worth no more than none.
CREATE TABLE rate_limit_backoff (
    name          text NOT NULL,
    key           bytea NOT NULL,
    failures      integer NOT NULL,
    window_start  timestamptz NOT NULL,
    blocked_until timestamptz NOT NULL,
    strikes       integer NOT NULL,
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (name, key)
);
CREATE INDEX rate_limit_backoff_expires_at ON rate_limit_backoff (expires_at);

-- +goose Down
DROP TABLE rate_limit_backoff;
DROP TABLE rate_limits;
DROP TABLE rate_limit_key;
