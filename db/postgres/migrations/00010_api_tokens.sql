-- +goose Up
-- Personal access tokens (issue 16): a script's credential, sent as
-- "Authorization: Bearer anv_...". Only the SHA-256 of the secret is kept
-- (token_hash). A revoked token keeps its row: the audit events it made
-- name it (audit_events.token_id).
CREATE TABLE api_tokens (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL,
    scopes     text[] NOT NULL,
    token_hash bytea NOT NULL,
    created    timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    last_used  timestamptz,
    revoked_at timestamptz
);
-- Every request a token authenticates finds it by its hash.
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (token_hash);
-- An account's tokens, newest first, the revoked ones left out.
CREATE INDEX api_tokens_user ON api_tokens (user_id, created DESC, id DESC) WHERE revoked_at IS NULL;

-- The token that authenticated the request an event records; NULL for
-- every event of a session, the command line, or nobody.
ALTER TABLE audit_events ADD COLUMN token_id uuid;

-- +goose Down
ALTER TABLE audit_events DROP COLUMN token_id;
DROP TABLE api_tokens;
