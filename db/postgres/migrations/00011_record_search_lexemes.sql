-- +goose Up
-- The records search asks the index for each short word of a query as a
-- whole lexeme instead of as a prefix ('word':*). A prefix makes GIN read
-- every posting list it covers into a bitmap before it intersects them
-- (a word of every record, "dr", costs a million entries even beside a
-- word of none); a whole lexeme is intersected in step, skipping. So the
-- index holds, beside the words (search_words), their starts of 1 to 8
-- characters (searchPrefixRunes, search.go); a query word of that length
-- or less is then a lexeme, a longer one still a prefix of the words.
--
-- The starts are computed in the index expression, not stored: the table
-- keeps its width (a search's exact count visits every match's heap
-- page), a write stores nothing more, and this migration only builds the
-- index. The function is the index's, so IMMUTABLE (its result depends
-- on its argument alone: left() counts characters of the database's
-- encoding) and PARALLEL SAFE (CREATE INDEX may use parallel workers);
-- PL/pgSQL because it measured faster than an SQL function over unnest
-- (BENCHMARKS.md). It names pg_catalog's functions so that no search_path
-- can change what it returns. Functions are EXECUTE to PUBLIC, so the
-- application role (app_role.go), which owns nothing, may call it.
--
-- A plain CREATE INDEX, in goose's transaction: it blocks writes to
-- medical_records while it builds (reads go on), which migrate does
-- before serve answers; CONCURRENTLY would need the migration outside a
-- transaction, and leaves an invalid index behind when it fails.
-- +goose StatementBegin
CREATE FUNCTION anavara_search_lexemes(words text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    ws text[] := pg_catalog.string_to_array(words, ' ');
    lexemes text[] := ws;
    w text;
BEGIN
    FOREACH w IN ARRAY ws LOOP
        FOR n IN 1 .. least(pg_catalog.length(w) - 1, 8) LOOP
            lexemes := pg_catalog.array_append(lexemes, pg_catalog.left(w, n));
        END LOOP;
    END LOOP;
    RETURN lexemes;
END
$$;
-- +goose StatementEnd
COMMENT ON FUNCTION anavara_search_lexemes(text) IS 'the words of search_words and their starts of 1 to 8 characters: the lexemes of the records search index (search.go)';
DROP INDEX medical_records_search;
CREATE INDEX medical_records_search ON medical_records USING gin (array_to_tsvector(anavara_search_lexemes(search_words)));

-- +goose Down
DROP INDEX medical_records_search;
CREATE INDEX medical_records_search ON medical_records USING gin (array_to_tsvector(string_to_array(search_words, ' ')));
DROP FUNCTION anavara_search_lexemes(text);
