-- +goose Up
-- The record counter (00003) is now kept by CreateRecord and DeleteRecord
-- in the same transaction as the row, and recounted whenever the database
-- is opened. A trigger on medical_records made every insert a multi-write
-- statement, which SQLite backs with a statement journal: a copy of each
-- page before the insert touches it, about a tenth of a create's CPU time.
DROP TRIGGER medical_record_count_insert;
DROP TRIGGER medical_record_count_delete;

-- +goose Down
UPDATE medical_record_count SET n = (SELECT count(*) FROM medical_records) WHERE id = 1;
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
