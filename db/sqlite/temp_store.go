package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/mattn/go-sqlite3"
)

// openWriter opens the writer's pool on dsn with temp_store=MEMORY on
// every connection. Group commit runs each request of a batch in a
// savepoint, and SQLite keeps the pages a savepoint changes that the
// transaction had already changed in a statement journal, which past 64 KiB
// it spills to a file in /var/tmp: a batch of 32 creates made about 30
// write system calls per create there (BENCHMARKS.md). In memory the
// journal of the largest batch is a few MiB. The pragma is set when each
// connection opens (a ConnectHook) rather than once by Open, so that a
// connection the pool replaces has it too.
func openWriter(dsn string) *sql.DB {
	return sql.OpenDB(hookedConnector{dsn: dsn, driver: &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		if _, err := c.Exec("PRAGMA temp_store = MEMORY", nil); err != nil {
			return fmt.Errorf("temp_store: %w", err)
		}
		return registerTailFuncs(c)
	}}})
}

// openReaders opens the readers' pool on dsn, with the functions the
// lookups of the trail's newest events call (audit_tail.go) on every
// connection.
func openReaders(dsn string) *sql.DB {
	return sql.OpenDB(hookedConnector{dsn: dsn, driver: &sqlite3.SQLiteDriver{ConnectHook: registerTailFuncs}})
}

// hookedConnector opens connections through a driver with a hook,
// without registering a driver name (a process-wide registration).
type hookedConnector struct {
	dsn    string
	driver *sqlite3.SQLiteDriver
}

func (c hookedConnector) Connect(context.Context) (driver.Conn, error) {
	return c.driver.Open(c.dsn)
}

func (c hookedConnector) Driver() driver.Driver { return c.driver }
