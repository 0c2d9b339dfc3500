package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
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
// record's audit history); other pages run countSQL with args. A page that
// starts at a position (seeking) cannot tell how many rows lie before it,
// so it always counts.
func pageTotal[T any](ctx context.Context, q querier, rows []T, limit, offset int, seeking bool, countSQL string, args []any) ([]T, int, error) {
	rows, total, needCount := db.TrimPage(rows, limit, offset)
	if !needCount && !seeking {
		return rows, total, nil
	}
	var count int
	if err := q.QueryRowContext(ctx, countSQL, args...).Scan(&count); err != nil {
		return nil, 0, fmt.Errorf("count: %w", err)
	}
	return rows, count, nil
}

// seekCondition is the row comparison that keeps a page starting at s in
// a list sorted by key (a column) and then id (idCol) descending or not,
// and its two arguments; "" with no seek. SQLite compares row values
// term by term and reads them as a range of an index on (key, id).
func seekCondition(key, idCol string, s *db.Seek, desc bool) (string, []any, error) {
	if s == nil {
		return "", nil, nil
	}
	var v any
	switch k := s.Key.(type) {
	case time.Time:
		v = micros(k)
	case model.Date:
		v = k.String()
	case string:
		v = k
	default:
		return "", nil, fmt.Errorf("seek: a key of type %T", s.Key)
	}
	return "(" + key + ", " + idCol + ") " + s.Comparison(desc) + " (?, ?)", []any{v, s.ID}, nil
}

// direction is the SQL order of a page of a list sorted descending
// (desc) or not, which a backward page reads the other way.
func direction(s *db.Seek, desc bool) string {
	if s.Descending(desc) {
		return "DESC"
	}
	return "ASC"
}
