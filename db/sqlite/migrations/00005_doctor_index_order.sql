-- +goose Up
-- The doctor filter lists newest first with id as the tie-break, like every
-- other list: the index carries id too, so no list sorts its matches
-- (db/plan_test.go).
DROP INDEX medical_records_doctor;
CREATE INDEX medical_records_doctor ON medical_records (doctor COLLATE NOCASE, created, id);

-- +goose Down
DROP INDEX medical_records_doctor;
CREATE INDEX medical_records_doctor ON medical_records (doctor COLLATE NOCASE, created);
