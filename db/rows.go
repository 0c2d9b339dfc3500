package db

import (
	"database/sql"
	"fmt"
)

// requireOneRow returns ErrNotFound when res changed no row.
func requireOneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
