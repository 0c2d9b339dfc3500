-- +goose Up
-- Totals the unfiltered lists report, so no page counts a whole table: the
-- records (part '') and the audit trail by action (part = the action; the
-- trail's total is their sum). All rows sit in one page, which a create
-- already writes for its record and its audit event alike. CreateRecord,
-- DeleteRecord and InsertAudit keep the rows in the same transaction as
-- the change; opening the database recounts them.
CREATE TABLE counts (
    name TEXT NOT NULL,    -- the counted table
    part TEXT NOT NULL,    -- '' for the whole table, else the audit action
    n    INTEGER NOT NULL,
    PRIMARY KEY (name, part)
) WITHOUT ROWID;
INSERT INTO counts (name, part, n) SELECT 'medical_records', '', count(*) FROM medical_records;
INSERT INTO counts (name, part, n) SELECT 'audit_events', action, count(*) FROM audit_events GROUP BY action;
DROP TABLE medical_record_count;

-- +goose Down
CREATE TABLE medical_record_count (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO medical_record_count (id, n) SELECT 1, count(*) FROM medical_records;
DROP TABLE counts;
