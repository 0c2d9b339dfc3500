-- +goose Up
-- The records search matches the starts of words (db.SearchWords) from an
-- index instead of substrings with a trigram scan. search_words holds the
-- record's words (db.RecordSearchWords: folded in Go, as on SQLite, so
-- that both engines index the very same words), separated by spaces; the
-- GIN index takes them as lexemes as they are (array_to_tsvector applies
-- no parser, dictionary or stemming), and a search's tsquery asks for
-- each word as a prefix ('word':*).
DROP INDEX medical_records_search;
ALTER TABLE medical_records DROP COLUMN search_text;
-- NULL until the code has written the record's words: SQL cannot fold as
-- Go does, so Open fills the rows this migration found (search.go), through
-- the partial index below, in batches with a progress line.
ALTER TABLE medical_records ADD COLUMN search_words text;
CREATE INDEX medical_records_search ON medical_records USING gin (array_to_tsvector(string_to_array(search_words, ' ')));
CREATE INDEX medical_records_search_pending ON medical_records (id) WHERE search_words IS NULL;
COMMENT ON COLUMN medical_records.search_words IS 'db.RecordSearchWords, written by the code: the records search (NULL: not yet written)';

-- +goose Down
DROP INDEX medical_records_search_pending;
DROP INDEX medical_records_search;
ALTER TABLE medical_records DROP COLUMN search_words;
-- lower() folds as the database's collation does, which is what
-- db.Fold did for most text: near enough for a downgrade's substring
-- search, which the older binary rewrites on every update anyway.
ALTER TABLE medical_records ADD COLUMN search_text text NOT NULL DEFAULT '';
UPDATE medical_records SET search_text = lower(patient_name || E'\x1f' || doctor || E'\x1f' || diagnosis);
CREATE INDEX medical_records_search ON medical_records USING gin (search_text gin_trgm_ops);
COMMENT ON COLUMN medical_records.search_text IS 'folded patient_name, doctor and diagnosis, written by the code, matched with LIKE';
