-- +goose Up
-- Every read of medical data is audited (issue 14): a list or search of
-- records writes one event naming the records it served. detail is a JSON
-- object of the request's filters without their free text
-- (model.RecordListDetail), kept as the text the server wrote so that both
-- engines answer it byte for byte; record_ids the records served, in the
-- order served. Both are NULL on every other event.
ALTER TABLE audit_events ADD COLUMN detail text, ADD COLUMN record_ids uuid[];

-- "Who saw record X": a GIN index over the records each event served, so
-- that the events that served a record are one key's posting list. GIN
-- adds a batch's keys to its pending list and merges them later, where a
-- table keyed by record wrote a B-tree entry per record served (20 a list)
-- in the request's transaction. The index is the trail's own, under the
-- trail's triggers and grants.
CREATE INDEX audit_events_record_ids ON audit_events USING gin (record_ids);

-- +goose Down
DROP INDEX audit_events_record_ids;
ALTER TABLE audit_events DROP COLUMN record_ids, DROP COLUMN detail;
