package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// collect scans every row with scan into a slice of the given capacity;
// the slice is empty, not nil, when
// there are none, as the SQLite engine's are (it encodes as [] in JSON).
func collect[T any](rows pgx.Rows, capacity int, scan func(pgx.Row) (T, error)) ([]T, error) {
	defer rows.Close()
	out := make([]T, 0, capacity)
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// pageTotal trims rows, fetched one past the page (where.page), to the page
// and returns the total number of matches. A last page knows the total
// without counting (db.TrimPage); other pages run countSQL with args. A
// page that starts at a position (seeking) cannot tell how many rows lie
// before it, so it always counts.
func pageTotal[T any](ctx context.Context, q querier, rows []T, limit, offset int, seeking bool, countSQL string, args []any) ([]T, int, error) {
	rows, total, needCount := db.TrimPage(rows, limit, offset)
	if !needCount && !seeking {
		return rows, total, nil
	}
	var count int
	if err := q.QueryRow(ctx, countSQL, args...).Scan(&count); err != nil {
		return nil, 0, fmt.Errorf("count: %w", err)
	}
	return rows, count, nil
}

// seek adds the row comparison that keeps a page starting at s in a list
// sorted by key (a column) and then id (idCol, a uuid) descending or not;
// nothing without a seek. PostgreSQL compares row values term by term and
// reads them as a range of a B-tree index on (key, id).
func (w *where) seek(key, idCol string, s *db.Seek, desc bool) error {
	if s == nil {
		return nil
	}
	var v any
	var cast string
	switch k := s.Key.(type) {
	case time.Time:
		v, cast = at(k), "::timestamptz"
	case model.Date:
		v, cast = dateArg(k), "::date"
	case string:
		v, cast = k, "::text"
	default:
		return fmt.Errorf("seek: a key of type %T", s.Key)
	}
	if !validID(s.ID) {
		return fmt.Errorf("seek: id %q is not a uuid", s.ID)
	}
	n := len(w.args)
	w.args = append(w.args, v, s.ID)
	w.conds = append(w.conds, "("+key+", "+idCol+") "+s.Comparison(desc)+" ($"+strconv.Itoa(n+1)+cast+", $"+strconv.Itoa(n+2)+"::uuid)")
	return nil
}

// direction is the SQL order of a page of a list sorted descending
// (desc) or not, which a backward page reads the other way.
func direction(s *db.Seek, desc bool) string {
	if s.Descending(desc) {
		return "DESC"
	}
	return "ASC"
}
