-- +goose Up
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL COLLATE NOCASE,
    first_name    TEXT NOT NULL,
    last_name     TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    is_staff      INTEGER NOT NULL DEFAULT 0 CHECK (is_staff IN (0, 1)),
    is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    -- Bumped on every password change or reset; access tokens carry it, so
    -- older tokens stop working at once.
    token_version INTEGER NOT NULL DEFAULT 0,
    -- Lower-cased email and names, folded in Go so that searches ignore
    -- case beyond ASCII ("élodie" finds "Élodie").
    search_text   TEXT NOT NULL DEFAULT '',
    created       INTEGER NOT NULL, -- Unix microseconds, UTC
    updated       INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email COLLATE NOCASE);
CREATE INDEX users_created ON users (created, id);
CREATE INDEX users_is_staff ON users (is_staff, created);
CREATE INDEX users_is_active ON users (is_active, created);

CREATE TABLE medical_records (
    id                TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    patient_name      TEXT NOT NULL,
    date_of_birth     TEXT NOT NULL, -- YYYY-MM-DD
    diagnosis         TEXT NOT NULL DEFAULT '',
    treatment         TEXT NOT NULL DEFAULT '',
    date_of_treatment TEXT NOT NULL, -- YYYY-MM-DD
    doctor            TEXT NOT NULL,
    -- Lower-cased patient_name, doctor and diagnosis for substring search.
    search_text       TEXT NOT NULL DEFAULT '',
    created           INTEGER NOT NULL,
    updated           INTEGER NOT NULL
);
-- A patient's own list, in every ordering, starts from this index.
CREATE INDEX medical_records_user_created ON medical_records (user_id, created, id);
-- Staff lists, one index per ordering and filter.
CREATE INDEX medical_records_created ON medical_records (created, id);
CREATE INDEX medical_records_updated ON medical_records (updated, id);
CREATE INDEX medical_records_date_of_treatment ON medical_records (date_of_treatment, id);
CREATE INDEX medical_records_patient_name ON medical_records (patient_name COLLATE NOCASE, id);
CREATE INDEX medical_records_doctor ON medical_records (doctor COLLATE NOCASE, created);

CREATE TABLE refresh_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  TEXT NOT NULL,
    token_hash BLOB NOT NULL,
    created    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER, -- set when rotated; presenting it again is reuse
    revoked_at INTEGER
);
CREATE UNIQUE INDEX refresh_tokens_hash ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id, revoked_at);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

CREATE TABLE otp_codes (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  BLOB NOT NULL, -- HMAC-SHA256 under a server key, never the code
    created    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    used_at    INTEGER
);
CREATE INDEX otp_codes_user ON otp_codes (user_id, created);

CREATE TABLE audit_events (
    id        TEXT PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor_id  TEXT, -- NULL when nobody was authenticated
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT,
    ip        TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_actor ON audit_events (actor_id, at);
CREATE INDEX audit_events_entity ON audit_events (entity_id, at);
CREATE INDEX audit_events_action ON audit_events (action, at);

-- The audit trail is append-only, whoever holds the database connection.
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_events;
DROP TABLE otp_codes;
DROP TABLE refresh_tokens;
DROP TABLE medical_records;
DROP TABLE users;
