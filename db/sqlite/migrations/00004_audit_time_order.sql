-- +goose Up
-- Audit events are stored in time order, keyed by (at, id): the table is
-- its own newest-first index and nothing else indexes the random id, so
-- each event writes four B-tree pages instead of six. Every write of
-- medical data also writes an event, and with synchronous=FULL each page
-- is a WAL frame written and synced before the client hears back.
CREATE TABLE audit_events_by_time (
    id        TEXT NOT NULL,
    at        INTEGER NOT NULL, -- Unix microseconds, UTC
    actor_id  TEXT,             -- NULL when nobody was authenticated
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT,
    ip        TEXT NOT NULL,
    PRIMARY KEY (at, id)
) WITHOUT ROWID;
INSERT INTO audit_events_by_time (id, at, actor_id, action, entity, entity_id, ip)
    SELECT id, at, actor_id, action, entity, entity_id, ip FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_by_time RENAME TO audit_events;
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
CREATE TABLE audit_events_by_id (
    id        TEXT PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor_id  TEXT,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT,
    ip        TEXT NOT NULL
);
INSERT INTO audit_events_by_id (id, at, actor_id, action, entity, entity_id, ip)
    SELECT id, at, actor_id, action, entity, entity_id, ip FROM audit_events ORDER BY at, id;
DROP TABLE audit_events;
ALTER TABLE audit_events_by_id RENAME TO audit_events;
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_actor ON audit_events (actor_id, at);
CREATE INDEX audit_events_entity ON audit_events (entity_id, at);
CREATE INDEX audit_events_action ON audit_events (action, at);
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
