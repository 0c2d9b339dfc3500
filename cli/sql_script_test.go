package cli_test

import (
	"database/sql"
	"fmt"

	"github.com/rogpeppe/go-internal/testscript"
)

// Commands that reach into a SQLite database file behind anavara's back,
// through a connection of their own, as someone holding the file could:
// the tampering the audit chain must show (testdata/audit-verify-*.txtar).

// openScriptSQLite opens the SQLite file name of the script's work
// directory.
func openScriptSQLite(ts *testscript.TestScript, name string) *sql.DB {
	conn, err := sql.Open("sqlite3", "file:"+ts.MkAbs(name)+"?_busy_timeout=5000")
	ts.Check(err)
	return conn
}

// cmdSQLExec runs each STATEMENT, in order, on the SQLite database FILE.
//
//	sqlexec FILE STATEMENT...
func cmdSQLExec(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: sqlexec FILE STATEMENT...")
	}
	conn := openScriptSQLite(ts, args[0])
	defer conn.Close()
	for _, stmt := range args[1:] {
		if _, err := conn.Exec(stmt); err != nil {
			ts.Fatalf("sqlexec: %s: %v", stmt, err)
		}
	}
}

// cmdSQLGet runs QUERY on the SQLite database FILE and sets each VAR to
// the matching column of its first row, which must exist.
//
//	sqlget FILE QUERY VAR...
func cmdSQLGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: sqlget FILE QUERY VAR...")
	}
	conn := openScriptSQLite(ts, args[0])
	defer conn.Close()
	vars := args[2:]
	values := make([]sql.NullString, len(vars))
	dest := make([]any, len(vars))
	for i := range values {
		dest[i] = &values[i]
	}
	if err := conn.QueryRow(args[1]).Scan(dest...); err != nil {
		ts.Fatalf("sqlget: %s: %v", args[1], err)
	}
	for i, v := range vars {
		ts.Setenv(v, values[i].String)
		fmt.Fprintf(ts.Stdout(), "%s=%s\n", v, values[i].String)
	}
}
