-- +goose Up
-- Every read of medical data is audited (issue 14): a list or search of
-- records writes one event naming the records it served. detail is a JSON
-- object of the request's filters without their free text
-- (model.RecordListDetail); record_ids the records served, 16 bytes each,
-- in the order served. Both are NULL on every other event.
ALTER TABLE audit_events ADD COLUMN detail TEXT;
ALTER TABLE audit_events ADD COLUMN record_ids BLOB;

-- "Who saw record X": a full-text index of each event's records, one term
-- per record (its id without hyphens), so that the events that served a
-- record are one term's list. FTS4 buffers a transaction's terms and writes
-- them as one segment at commit, a page or two for a batch of events,
-- where a B-tree keyed by record would dirty a page per record served.
-- The event's key rides along, not indexed. Filled with the event, in its
-- transaction; an import rebuilds it from record_ids. A virtual table takes
-- no triggers: the trail's own record_ids, which the triggers guard, are
-- what it indexes.
CREATE VIRTUAL TABLE audit_record_index USING fts4(
    records, event_at, event_id,
    notindexed=event_at, notindexed=event_id, tokenize=simple, matchinfo=fts3
);

-- +goose Down
DROP TABLE audit_record_index;
ALTER TABLE audit_events DROP COLUMN record_ids;
ALTER TABLE audit_events DROP COLUMN detail;
