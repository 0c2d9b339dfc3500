package sqlite

import (
	"context"
	"fmt"

	"github.com/anavara/anavara/db"
)

// pageArgs returns a page query's arguments: the filter's, then a limit
// one past the page and the offset. The extra row tells pageTotal whether
// the page is the last.
func pageArgs(args []any, limit, offset int) []any {
	return append(append([]any(nil), args...), limit+1, offset)
}

// pageTotal trims rows, fetched with pageArgs, to the page and returns the
// total number of matches. A last page knows the total without counting,
// which saves a query for every single-page list (most patients' records, a
// record's audit history); other pages run countSQL with args.
func pageTotal[T any](ctx context.Context, q querier, rows []T, limit, offset int, countSQL string, args []any) ([]T, int, error) {
	rows, total, needCount := db.TrimPage(rows, limit, offset)
	if !needCount {
		return rows, total, nil
	}
	var count int
	if err := q.QueryRowContext(ctx, countSQL, args...).Scan(&count); err != nil {
		return nil, 0, fmt.Errorf("count: %w", err)
	}
	return rows, count, nil
}
