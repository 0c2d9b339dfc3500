-- +goose Up
-- The audit trail's hash chain and access logs (issue 15). via is how the
-- request arrived (api, ssh, cli); subject_ids the accounts the event
-- concerns, whose access logs show it: for a list or search the owner of
-- each record served, parallel to record_ids; seq, prev_hash and hash the
-- event's link in the chain (package audit/chain), filled by the server as
-- it appends, under a transaction-level advisory lock that makes the
-- chain one total order across every instance. Migration 8 links the
-- events already here.
ALTER TABLE audit_events
    ADD COLUMN via text NOT NULL DEFAULT 'api',
    ADD COLUMN subject_ids uuid[],
    ADD COLUMN seq bigint,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash bytea;

-- The chain's order and its head.
CREATE UNIQUE INDEX audit_events_seq ON audit_events (seq);
-- An account's access log: one key's posting list, as record_ids' index.
CREATE INDEX audit_events_subject_ids ON audit_events USING gin (subject_ids);

-- +goose Down
DROP INDEX audit_events_subject_ids;
DROP INDEX audit_events_seq;
ALTER TABLE audit_events DROP COLUMN hash, DROP COLUMN prev_hash, DROP COLUMN seq,
    DROP COLUMN subject_ids, DROP COLUMN via;
