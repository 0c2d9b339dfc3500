-- +goose Up
-- Every read of medical data is audited (issue 14): a list or search of
-- records writes one event naming the records it served. detail is a JSON
-- object of the request's filters without their free text
-- (model.RecordListDetail); record_ids a JSON array of the records served,
-- in the order served. Both are NULL on every other event.
ALTER TABLE audit_events ADD COLUMN detail TEXT;
ALTER TABLE audit_events ADD COLUMN record_ids TEXT;

-- "Who saw record X": one row per record an event served, keyed by the
-- record and then the event's own key, so that the events that served a
-- record are one range of this index, newest last. Filled with the event,
-- in its transaction; an import rebuilds it from record_ids.
CREATE TABLE audit_event_records (
    record_id TEXT NOT NULL,
    at        INTEGER NOT NULL, -- the event's at
    event_id  TEXT NOT NULL,    -- the event's id
    PRIMARY KEY (record_id, at, event_id)
) WITHOUT ROWID;

-- Append-only, like the trail it indexes.
-- +goose StatementBegin
CREATE TRIGGER audit_event_records_no_update BEFORE UPDATE ON audit_event_records
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_event_records_no_delete BEFORE DELETE ON audit_event_records
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_event_records;
ALTER TABLE audit_events DROP COLUMN record_ids;
ALTER TABLE audit_events DROP COLUMN detail;
