package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/anavara/anavara/db"
)

// The records search index (migration 13): record_search is an FTS4 table
// over medical_records.search_words (db.RecordSearchWords) with external
// content, docid = the record's rowid. SQLite does not keep such an index
// in step by itself; these functions do, in the record's own write
// transaction, so that a search never sees a record without its words or
// words without their record. An external-content index removes a row's
// words by reading them from the content table, so unindexRecord must run
// while the record still holds the words it was indexed with.

// indexRecord adds the words the record at rowid holds now.
func (q *queries) indexRecord(ctx context.Context, rowid int64, words string) error {
	if _, err := q.q.ExecContext(ctx, `INSERT INTO record_search (docid, search_words) VALUES (?, ?)`, rowid, words); err != nil {
		return fmt.Errorf("index record: %w", err)
	}
	return nil
}

// unindexRecord removes the words of the record at rowid, before the
// record changes or goes.
func (q *queries) unindexRecord(ctx context.Context, rowid int64) error {
	if _, err := q.q.ExecContext(ctx, `DELETE FROM record_search WHERE docid = ?`, rowid); err != nil {
		return fmt.Errorf("unindex record: %w", err)
	}
	return nil
}

// matchExpr is the FTS4 MATCH expression for a search's words
// (db.SearchWords): each word as a prefix, all of them required. The words
// hold letters and digits only, and are folded to lower case, so none is
// an operator (AND, OR, NOT, NEAR are upper case) or carries FTS syntax:
// no user text reaches MATCH other than as such a word.
func matchExpr(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
		b.WriteByte('*')
	}
	return b.String()
}

// recordSearchTable is the index's table, for the import's prepared insert
// (copy.go).
const recordSearchTable db.Table = "record_search"
