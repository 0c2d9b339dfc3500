-- +goose Up
-- What the refresh grace window (server/authentication.go, refreshToken)
-- needs to know about a rotated token: who rotated it (a SHA-256 of the
-- client's address and User-Agent, never the raw values), which token the
-- rotation issued, and whether the grace was already spent on it. Tokens
-- rotated before this migration have no fingerprint and so get no grace.
ALTER TABLE refresh_tokens ADD COLUMN rotated_by BLOB;
ALTER TABLE refresh_tokens ADD COLUMN child_id TEXT;
ALTER TABLE refresh_tokens ADD COLUMN grace_used_at INTEGER;

-- +goose Down
ALTER TABLE refresh_tokens DROP COLUMN grace_used_at;
ALTER TABLE refresh_tokens DROP COLUMN child_id;
ALTER TABLE refresh_tokens DROP COLUMN rotated_by;
