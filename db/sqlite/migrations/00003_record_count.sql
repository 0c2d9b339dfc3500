-- +goose Up
-- The unfiltered records list needs the total on every page; counting a
-- million rows costs tens of milliseconds, so the total is kept up to date
-- by triggers instead (one small write per insert or delete).
CREATE TABLE medical_record_count (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO medical_record_count (id, n) SELECT 1, count(*) FROM medical_records;

-- +goose StatementBegin
CREATE TRIGGER medical_record_count_insert AFTER INSERT ON medical_records
BEGIN
    UPDATE medical_record_count SET n = n + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER medical_record_count_delete AFTER DELETE ON medical_records
BEGIN
    UPDATE medical_record_count SET n = n - 1 WHERE id = 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER medical_record_count_delete;
DROP TRIGGER medical_record_count_insert;
DROP TABLE medical_record_count;
