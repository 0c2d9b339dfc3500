-- +goose Up
-- Every read of medical data is audited (issue 14): a list or search of
-- records writes one event naming the records it served. detail is a JSON
-- object of the request's filters without their free text
-- (model.RecordListDetail), kept as the text the server wrote so that both
-- engines answer it byte for byte; record_ids the records served, in the
-- order served. Both are NULL on every other event.
ALTER TABLE audit_events ADD COLUMN detail text, ADD COLUMN record_ids uuid[];

-- "Who saw record X": one row per record an event served, keyed by the
-- record and then the event's own key, so that the events that served a
-- record are one range of this index. Filled with the event, in its
-- transaction; an import rebuilds it from record_ids.
CREATE TABLE audit_event_records (
    record_id uuid NOT NULL,
    at        timestamptz NOT NULL, -- the event's at
    event_id  uuid NOT NULL,        -- the event's id
    PRIMARY KEY (record_id, at, event_id)
);

-- Append-only, like the trail it indexes.
CREATE TRIGGER audit_event_records_no_update BEFORE UPDATE ON audit_event_records
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_event_records_no_delete BEFORE DELETE ON audit_event_records
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_event_records_no_truncate BEFORE TRUNCATE ON audit_event_records
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
COMMENT ON TABLE audit_event_records IS 'append-only: triggers refuse UPDATE, DELETE and TRUNCATE';

-- The default privileges of AppRole.Grants gave the application's role
-- UPDATE and DELETE on this table as it was created; an index of the
-- trail gets what the trail gets, SELECT and INSERT.
-- +goose StatementBegin
DO $$
DECLARE
    grantee_name text;
BEGIN
    FOR grantee_name IN
        SELECT DISTINCT grantee FROM information_schema.role_table_grants
        WHERE table_schema = current_schema() AND table_name = 'audit_event_records'
          AND privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')
          AND grantee <> (SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'audit_event_records')
    LOOP
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_event_records FROM %I', grantee_name);
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_event_records;
ALTER TABLE audit_events DROP COLUMN record_ids, DROP COLUMN detail;
