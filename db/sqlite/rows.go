package sqlite

import (
	"database/sql"
	"fmt"
	"github.com/anavara/anavara/db"
)

// requireOneRow returns db.ErrNotFound when res changed no row.
func requireOneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return db.ErrNotFound
	}
	return nil
}
