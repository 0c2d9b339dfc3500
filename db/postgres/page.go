package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
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
// without counting (db.TrimPage); other pages run countSQL with args.
func pageTotal[T any](ctx context.Context, q querier, rows []T, limit, offset int, countSQL string, args []any) ([]T, int, error) {
	rows, total, needCount := db.TrimPage(rows, limit, offset)
	if !needCount {
		return rows, total, nil
	}
	var count int
	if err := q.QueryRow(ctx, countSQL, args...).Scan(&count); err != nil {
		return nil, 0, fmt.Errorf("count: %w", err)
	}
	return rows, count, nil
}
