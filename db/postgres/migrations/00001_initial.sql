-- +goose Up
-- Anavara's schema for PostgreSQL, in one migration: the SQLite schema as it
-- stands after its migration 00009 (db/sqlite/migrations), in PostgreSQL's
-- own types. Ids are uuid (16 bytes, compared as bytes, so they order like
-- their canonical lower-case text does on SQLite), times timestamptz
-- (microseconds, like the Unix microseconds SQLite stores), calendar days
-- date, flags boolean, hashes bytea.

-- Substring search (search_text LIKE '%…%') can use a trigram index; without
-- one every search reads the whole table. pg_trgm is a trusted extension, so
-- the database's owner may create it without being a superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    -- Normalised to lower case by the model; the unique index and every
    -- lookup compare lower(email) all the same, so that no address that
    -- slipped in with capitals can be registered twice.
    email         text NOT NULL,
    first_name    text NOT NULL,
    last_name     text NOT NULL,
    password_hash text NOT NULL,
    is_staff      boolean NOT NULL DEFAULT false,
    is_active     boolean NOT NULL DEFAULT true,
    -- Bumped on every password change or reset; access tokens carry it, so
    -- older tokens stop working at once.
    token_version bigint NOT NULL DEFAULT 0,
    -- Lower-cased email and names (db.UserSearchText), folded in Go so that
    -- every engine ignores case beyond ASCII alike ("élodie" finds "Élodie").
    search_text   text NOT NULL DEFAULT '',
    created       timestamptz NOT NULL,
    updated       timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));
-- The users list is oldest first, with id as the tie-break, filtered or not.
CREATE INDEX users_created ON users (created, id);
CREATE INDEX users_is_staff ON users (is_staff, created, id);
CREATE INDEX users_is_active ON users (is_active, created, id);
CREATE INDEX users_search ON users USING gin (search_text gin_trgm_ops);
COMMENT ON COLUMN users.search_text IS 'db.UserSearchText: folded email and names, written by the code, matched with LIKE';

CREATE TABLE medical_records (
    id                uuid PRIMARY KEY,
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    patient_name      text NOT NULL,
    -- db.Fold(patient_name), the sort key of the patient_name ordering. The
    -- code folds it, and "C" compares the folded bytes, so the order is the
    -- same whatever the database's collation (and an index can serve it).
    patient_name_key  text COLLATE "C" NOT NULL,
    date_of_birth     date NOT NULL,
    diagnosis         text NOT NULL DEFAULT '',
    treatment         text NOT NULL DEFAULT '',
    date_of_treatment date NOT NULL,
    doctor            text NOT NULL,
    -- db.Fold(doctor): the doctor filter matches it exactly, ignoring case
    -- the way the code folds it rather than the way a collation would.
    doctor_key        text COLLATE "C" NOT NULL,
    -- Lower-cased patient_name, doctor and diagnosis (db.RecordSearchText)
    -- for substring search.
    search_text       text NOT NULL DEFAULT '',
    created           timestamptz NOT NULL,
    updated           timestamptz NOT NULL
);
-- A patient's own list starts from this index.
CREATE INDEX medical_records_user_created ON medical_records (user_id, created, id);
-- Staff lists, one index per ordering and filter, each ending in id, the
-- tie-break of every ordering, so that no list sorts its matches.
CREATE INDEX medical_records_created ON medical_records (created, id);
CREATE INDEX medical_records_updated ON medical_records (updated, id);
CREATE INDEX medical_records_date_of_treatment ON medical_records (date_of_treatment, id);
CREATE INDEX medical_records_patient_name ON medical_records (patient_name_key, id);
CREATE INDEX medical_records_doctor ON medical_records (doctor_key, created, id);
CREATE INDEX medical_records_search ON medical_records USING gin (search_text gin_trgm_ops);
COMMENT ON COLUMN medical_records.patient_name_key IS 'db.Fold(patient_name), written by the code: the patient_name ordering';
COMMENT ON COLUMN medical_records.doctor_key IS 'db.Fold(doctor), written by the code: the doctor filter';
COMMENT ON COLUMN medical_records.search_text IS 'db.RecordSearchText, written by the code, matched with LIKE';

CREATE TABLE refresh_tokens (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Every token rotated from one login shares the family, so reuse of any
    -- of them revokes them all.
    family_id     uuid NOT NULL,
    token_hash    bytea NOT NULL, -- SHA-256 of the token, never the token
    created       timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz, -- set when rotated; presenting it again is reuse
    revoked_at    timestamptz,
    -- What the refresh grace window (server/authentication.go) needs about
    -- a rotated token: who rotated it (a SHA-256 of the client's address
    -- and User-Agent, never the raw values), which token the rotation
    -- issued, and whether the grace was already spent on it.
    rotated_by    bytea,
    child_id      uuid,
    grace_used_at timestamptz
);
CREATE UNIQUE INDEX refresh_tokens_hash ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id, revoked_at);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

CREATE TABLE otp_codes (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea NOT NULL, -- HMAC-SHA256 under a server key, never the code
    created    timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    used_at    timestamptz
);
CREATE INDEX otp_codes_user ON otp_codes (user_id, created);

CREATE TABLE ssh_keys (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        text NOT NULL,
    type        text NOT NULL, -- e.g. ssh-ed25519
    fingerprint text NOT NULL, -- SHA256:... as ssh-keygen -lf prints it
    public_key  text NOT NULL, -- the authorized_keys form, without comment
    created     timestamptz NOT NULL,
    last_used   timestamptz
);
-- One key opens one account.
CREATE UNIQUE INDEX ssh_keys_fingerprint ON ssh_keys (fingerprint);
CREATE INDEX ssh_keys_user ON ssh_keys (user_id, created, id);

-- Keyed by (at, id), so that the primary key is itself the newest-first
-- order of the trail and nothing else indexes the random id.
CREATE TABLE audit_events (
    id        uuid NOT NULL,
    at        timestamptz NOT NULL,
    -- NULL when nobody was authenticated. No foreign key: the trail must
    -- outlive, and never block, any change to the users it names.
    actor_id  uuid,
    action    text NOT NULL,
    entity    text NOT NULL,
    -- text, not uuid: the entity may be named by something other than a
    -- uuid, and the trail records whatever it was.
    entity_id text,
    ip        text NOT NULL,
    PRIMARY KEY (at, id)
);
CREATE INDEX audit_events_actor ON audit_events (actor_id, at, id);
CREATE INDEX audit_events_entity ON audit_events (entity_id, at, id);
CREATE INDEX audit_events_action ON audit_events (action, at, id);

-- The audit trail is append-only, whoever holds the database connection:
-- UPDATE and DELETE are refused row by row, TRUNCATE (which fires no row
-- trigger) by a statement trigger. The table's owner could still disable
-- the triggers; these guard against mistakes and against the application's
-- own connections, which is what they can do.
-- +goose StatementBegin
CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
COMMENT ON TABLE audit_events IS 'append-only: triggers refuse UPDATE, DELETE and TRUNCATE';

-- Totals the unfiltered lists report, so that no page counts a whole table:
-- the records (part '') and the audit trail by action (part = the action;
-- the trail's total is their sum). CreateRecord, DeleteRecord and
-- InsertAudit move them in the transaction of the change, with an upsert,
-- and opening the database recounts them if they drifted.
CREATE TABLE counts (
    name text NOT NULL, -- the counted table
    part text NOT NULL, -- '' for the whole table, else the audit action
    n    bigint NOT NULL,
    PRIMARY KEY (name, part)
);
INSERT INTO counts (name, part, n) VALUES ('medical_records', '', 0);

-- One row the health check rewrites when no request has written for a
-- while, to learn whether writes still succeed (Store.Health): a hot
-- standby, say, refuses them.
CREATE TABLE health_heartbeat (
    id    integer PRIMARY KEY CHECK (id = 1),
    beats bigint NOT NULL
);
INSERT INTO health_heartbeat (id, beats) VALUES (1, 0);

-- +goose Down
DROP TABLE health_heartbeat;
DROP TABLE counts;
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE ssh_keys;
DROP TABLE otp_codes;
DROP TABLE refresh_tokens;
DROP TABLE medical_records;
DROP TABLE users;
