-- +goose Up
-- Optimistic concurrency (server/etag.go): every record and user row has a
-- version, 1 when created and bumped by every write of the row that its
-- JSON shows. The API sends it as the ETag and checks If-Match against it.
-- Rows that exist before this migration start at 1.
ALTER TABLE medical_records ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE users DROP COLUMN version;
ALTER TABLE medical_records DROP COLUMN version;
