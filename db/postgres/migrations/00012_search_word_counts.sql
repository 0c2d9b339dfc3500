-- +goose Up
-- How many records hold each word of the records search (search.go's
-- wordCounts), so that a search need not ask the GIN index for what the
-- counts already say: a query word that starts a word of every record
-- ("dr" of every "Dr.") filters nothing and is left out, one that starts
-- no word matches nothing, and one that starts exactly one word has that
-- word's count as its total, where the index would read every match's
-- heap page to count them (about 100 ms for 50,000 matches at a million
-- records; BENCHMARKS.md, "Issue 14, session 14").
--
-- Kept in step by the code in each record's write transaction, written
-- just before COMMIT with the other counters (counts.go): the row of a
-- word of every record is as hot as the records counter. COLLATE "C": a
-- word's starts are a range of the key in byte order, whatever the
-- database's collation. A word no record holds any more keeps its row at
-- 0 until the next recount; no CHECK, so that a write after an operator's
-- change that bypassed the code cannot fail on a count gone below 0 (a
-- search takes a count of 0 or less as no record; recountAtOpen corrects
-- it).
CREATE TABLE search_word_counts (
    word    text COLLATE "C" PRIMARY KEY,
    records bigint NOT NULL
);
COMMENT ON TABLE search_word_counts IS 'how many records hold each word of medical_records.search_words, kept by the code (search.go)';
-- Records whose words Open has yet to fill (migration 5) hold none here;
-- fillSearchWords counts them as it fills them.
INSERT INTO search_word_counts (word, records)
    SELECT w, count(*) FROM medical_records, unnest(string_to_array(search_words, ' ')) AS w
    WHERE search_words <> '' GROUP BY w;

-- +goose Down
DROP TABLE search_word_counts;
