-- +goose Up
CREATE TABLE ssh_keys (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,          -- e.g. ssh-ed25519
    fingerprint TEXT NOT NULL,          -- SHA256:... as ssh-keygen -lf prints it
    public_key  TEXT NOT NULL,          -- the authorized_keys form, without comment
    created     INTEGER NOT NULL,
    last_used   INTEGER
);
-- One key opens one account.
CREATE UNIQUE INDEX ssh_keys_fingerprint ON ssh_keys (fingerprint);
CREATE INDEX ssh_keys_user ON ssh_keys (user_id, created);

-- +goose Down
DROP TABLE ssh_keys;
