package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
)

// searchPairWords is the most words (search_words) a record may hold for
// the index to hold the pairs of them as lexemes (migration 13), and
// searchPairRunes the fewest characters of a word in a pair: at most 120
// pairs a record. Words of one or two letters (the "dr" of every doctor)
// are the commonest, and a pair with one filters little more than the
// other word alone; leaving them out spares a write a third of the pairs
// of the seeded records (BENCHMARKS.md, "Issue 14, session 17"). A
// record with more words holds searchManyWordsLexeme instead of pairs.
const (
	searchPairWords = 16
	searchPairRunes = 3
)

// searchManyWordsLexeme is the lexeme of a record with more than
// searchPairWords words, whose pairs the index does not hold: a search
// by pairs also asks for it with the words themselves (pairedSearch).
// Words hold letters and digits only (db.SearchWords), and a pair a
// space, so it is neither.
const searchManyWordsLexeme = "+many"

// searchLexemesWithPairsSQL is anavara_search_lexemes as migration 13
// makes it: migration 11's lexemes, each word and its starts of 1 to
// searchPrefixRunes characters, and, when the record has at most
// searchPairWords words, each pair of its words of searchPairRunes
// characters or more, in byte order (COLLATE "C", as Go compares
// strings) joined by a space (searchPair); otherwise
// searchManyWordsLexeme. A search of two words that each start exactly
// one indexed word then asks GIN for one posting list, the records that
// hold both, instead of intersecting two long ones (BENCHMARKS.md,
// "Issue 14, session 17").
const searchLexemesWithPairsSQL = `CREATE OR REPLACE FUNCTION anavara_search_lexemes(words text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    ws text[] := pg_catalog.string_to_array(words, ' ');
    lexemes text[] := ws;
    pairs boolean := pg_catalog.cardinality(ws) <= 16;
    w text;
    v text;
BEGIN
    IF NOT pairs THEN
        lexemes := pg_catalog.array_append(lexemes, '+many');
    END IF;
    FOREACH w IN ARRAY ws LOOP
        FOR n IN 1 .. least(pg_catalog.length(w) - 1, 8) LOOP
            lexemes := pg_catalog.array_append(lexemes, pg_catalog.left(w, n));
        END LOOP;
        IF pairs AND pg_catalog.length(w) >= 3 THEN
            FOREACH v IN ARRAY ws LOOP
                IF pg_catalog.length(v) >= 3 AND w COLLATE "C" < v COLLATE "C" THEN
                    lexemes := pg_catalog.array_append(lexemes, w || ' ' || v);
                END IF;
            END LOOP;
        END IF;
    END LOOP;
    RETURN lexemes;
END
$$`

// searchLexemesSQL is anavara_search_lexemes as migration 11 made it,
// which undoing migration 13 restores.
const searchLexemesSQL = `CREATE OR REPLACE FUNCTION anavara_search_lexemes(words text) RETURNS text[]
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
$$`

// createSearchIndexSQL creates the records search index over searchVector
// as migration 11 did, and createSearchIndexWithPairsSQL as migration 13
// does: with a pending list of 128 kB instead of the server's default 4
// MB. GIN adds a write's entries to that list, which every search then
// reads whole, until a write finds it full and merges it into the index.
// At a million records, 140 pending pages (1.1 MB) took a two-word
// search from 3.6 to 5.9 ms and a word of no record from 0.09 to 0.45
// ms; 16 pages cost a search at most a tenth of that, and a create about
// 0.1–0.2 ms of the server's CPU (BENCHMARKS.md, "Issue 14, session 17").
const (
	createSearchIndexSQL          = `CREATE INDEX medical_records_search ON medical_records USING gin (` + searchVector + `)`
	createSearchIndexWithPairsSQL = createSearchIndexSQL + ` WITH (gin_pending_list_limit = 128)`
)

// addSearchPairs is migration 13: the records search index gains the
// pairs of each record's words.
func addSearchPairs(ctx context.Context, tx *sql.Tx) error {
	return rebuildSearchIndex(ctx, tx, searchLexemesWithPairsSQL, createSearchIndexWithPairsSQL,
		"migration 13: rebuilding the records search index with pairs of words")
}

// dropSearchPairs undoes migration 13.
func dropSearchPairs(ctx context.Context, tx *sql.Tx) error {
	return rebuildSearchIndex(ctx, tx, searchLexemesSQL, createSearchIndexSQL,
		"undoing migration 13: rebuilding the records search index without pairs of words")
}

// rebuildSearchIndex gives anavara_search_lexemes the body function
// creates and rebuilds the index over it with createIndex. The index goes first: DROP
// INDEX holds the table ACCESS EXCLUSIVE to the commit, so no record is
// written, and no search planned, between the function's change and the
// index it makes; an older server keeps working against either, its
// queries naming the same expression. It logs one line first when the
// records are many: about 40 s at a million records (BENCHMARKS.md).
func rebuildSearchIndex(ctx context.Context, tx *sql.Tx, function, createIndex, doing string) error {
	var records int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce((SELECT n FROM counts WHERE name = '`+countRecords+`' AND part = ''), 0)`).Scan(&records); err != nil {
		return fmt.Errorf("record search: %w", err)
	}
	if records > searchProgressEvery {
		slog.InfoContext(ctx, doing, "records", records)
	}
	for _, stmt := range []string{
		`DROP INDEX medical_records_search`,
		function,
		createIndex,
		// The planner's statistics of the indexed expression belong to
		// the index: a new one has none until ANALYZE (about 1 s at a
		// million records), which autovacuum would run only after many
		// writes.
		`ANALYZE medical_records`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("record search: %w", err)
		}
	}
	return nil
}
