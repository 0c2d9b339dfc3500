package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// Export and Import: the SQLite side of anavara db copy (db/copy.go).

var (
	_ db.Exporter = (*Store)(nil)
	_ db.Importer = (*Store)(nil)
)

// LatestVersion is the version of the newest embedded migration.
func (d *Store) LatestVersion() int64 {
	// goose reads the versions from the sources; no query runs.
	p, err := newProvider(d.writer)
	if err != nil {
		panic(fmt.Sprintf("embedded migrations: %v", err)) // the build is broken
	}
	var latest int64
	for _, s := range p.ListSources() {
		latest = max(latest, s.Version)
	}
	return latest
}

// Export streams every row from one read transaction on a reader
// connection: in WAL mode its first read fixes the snapshot every later
// query of the transaction sees, while the writer carries on.
func (d *Store) Export(ctx context.Context, sink db.ExportSink) error {
	tx, err := d.reader.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	// Read-only: there is nothing to commit.
	defer tx.Rollback()
	tally, err := tallyOf(ctx, tx)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := sink.Start(ctx, tally); err != nil {
		return err
	}
	// Rowid tables are read in rowid order, a straight scan of the table;
	// the audit trail in its primary key's, which is its storage order.
	if err := exportTable(ctx, tx, `SELECT `+userColumns+` FROM users ORDER BY rowid`, scanUser, sink.Users); err != nil {
		return err
	}
	if err := exportTable(ctx, tx, `SELECT `+recordColumns+` FROM medical_records ORDER BY rowid`, scanRecord, sink.MedicalRecords); err != nil {
		return err
	}
	if err := exportTable(ctx, tx, `SELECT `+refreshTokenColumns+` FROM refresh_tokens ORDER BY rowid`, scanRefreshTokenRow, sink.RefreshTokens); err != nil {
		return err
	}
	if err := exportTable(ctx, tx, `SELECT `+otpColumns+` FROM otp_codes ORDER BY rowid`, scanOTP, sink.OTPCodes); err != nil {
		return err
	}
	if err := exportTable(ctx, tx, `SELECT `+sshKeyColumns+` FROM ssh_keys ORDER BY rowid`, scanSSHKey, sink.SSHKeys); err != nil {
		return err
	}
	if err := exportTable(ctx, tx, `SELECT `+apiTokenColumns+` FROM api_tokens ORDER BY rowid`, scanAPIToken, sink.APITokens); err != nil {
		return err
	}
	if err := exportTable(ctx, tx, `SELECT `+auditColumns+` FROM audit_events ORDER BY at, id`, scanAudit, sink.AuditEvents); err != nil {
		return err
	}
	return exportTable(ctx, tx, `SELECT `+resetRequestColumns+` FROM reset_requests ORDER BY rowid`, scanResetRequest, sink.ResetRequests)
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner = interface{ Scan(...any) error }

// exportTable runs query and hands its rows, scanned by scan, to deliver
// in batches of at most db.ExportBatch, reusing one batch's memory.
func exportTable[T any](ctx context.Context, tx *sql.Tx, query string, scan func(scanner) (T, error), deliver func(context.Context, []T) error) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer rows.Close()
	batch := make([]T, 0, db.ExportBatch)
	for rows.Next() {
		row, err := scan(rows)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		batch = append(batch, row)
		if len(batch) == db.ExportBatch {
			if err := deliver(ctx, batch); err != nil {
				return err
			}
			clear(batch) // drop the strings the sink is done with
			batch = batch[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if len(batch) > 0 {
		return deliver(ctx, batch)
	}
	return nil
}

// scanRefreshTokenRow reads refreshTokenColumns.
func scanRefreshTokenRow(row scanner) (db.RefreshToken, error) {
	var t db.RefreshToken
	var created, expires int64
	var used, revoked, grace sql.NullInt64
	if err := row.Scan(&t.ID, &t.UserID, &t.FamilyID, &t.Hash, &created, &expires, &used, &revoked, &t.RotatedBy, &t.ChildID, &grace); err != nil {
		return t, err
	}
	t.Created, t.ExpiresAt = fromMicros(created), fromMicros(expires)
	t.UsedAt, t.RevokedAt, t.GraceUsedAt = optionalTime(used), optionalTime(revoked), optionalTime(grace)
	return t, nil
}

// otpColumns are the columns scanOTP reads, in order.
const otpColumns = `id, user_id, code_hash, created, expires_at, attempts, used_at`

func scanOTP(row scanner) (db.OTPCode, error) {
	var c db.OTPCode
	var created, expires int64
	var used sql.NullInt64
	if err := row.Scan(&c.ID, &c.UserID, &c.Hash, &created, &expires, &c.Attempts, &used); err != nil {
		return c, err
	}
	c.Created, c.ExpiresAt, c.UsedAt = fromMicros(created), fromMicros(expires), optionalTime(used)
	return c, nil
}

// tallyOf counts every copied table and reads the counters, stored and
// true, in q's snapshot.
func tallyOf(ctx context.Context, q querier) (db.Tally, error) {
	t := db.Tally{Rows: map[db.Table]int64{}}
	for _, table := range db.CopyTables {
		var n int64
		// The names are the package's own constants, not input.
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+string(table)).Scan(&n); err != nil {
			return t, fmt.Errorf("count %s: %w", table, err)
		}
		t.Rows[table] = n
	}
	var err error
	if t.Counters, err = readCounters(ctx, q, `SELECT name, part, n FROM counts`); err != nil {
		return t, err
	}
	if t.TrueCounters, err = readCounters(ctx, q, trueCounts); err != nil {
		return t, err
	}
	return t, nil
}

// readCounters runs query, which selects name, part and n, into
// db.CleanCounters' form.
func readCounters(ctx context.Context, q querier, query string) ([]db.Counter, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	defer rows.Close()
	var cs []db.Counter
	for rows.Next() {
		var c db.Counter
		if err := rows.Scan(&c.Name, &c.Part, &c.N); err != nil {
			return nil, fmt.Errorf("read counters: %w", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	return db.CleanCounters(cs), nil
}

// importCacheKiB is the page cache the writer uses during an import, in
// KiB. Each record insert touches seven B-trees at random places; with the
// writer's usual 16 MB, a million records spill and re-read pages all the
// way. The pages are SQLite's to allocate as it needs them, so a small
// import costs no more memory than before.
const importCacheKiB = 256 * 1024

// Import runs load in one write transaction on the writer connection
// (BEGIN IMMEDIATE, so nothing else writes the database meanwhile).
func (d *Store) Import(ctx context.Context, load func(db.ImportTx) error) (err error) {
	// The writer is one connection, so these pragmas apply to the
	// transaction below; the cache goes back to its size after the commit,
	// since shrinking it before would spill the transaction's pages.
	var cache int64
	if err := d.writer.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if _, err := d.writer.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", importCacheKiB)); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer func() {
		if _, rerr := d.writer.ExecContext(context.Background(), fmt.Sprintf("PRAGMA cache_size = %d", cache)); rerr != nil {
			err = errors.Join(err, fmt.Errorf("import: %w", rerr))
		}
	}()
	return d.write(ctx, func(q *queries) error {
		conn, ok := q.q.(*sql.Conn)
		if !ok {
			return errors.New("import: not on the writer's connection")
		}
		t, err := tallyOf(ctx, conn)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		for _, table := range db.CopyTables {
			if t.Rows[table] > 0 {
				return &db.NotEmptyError{Rows: t.Rows}
			}
		}
		q.markUsersWritten()
		im := &importTx{conn: conn}
		defer im.close()
		if err := load(im); err != nil {
			return err
		}
		if err := indexAuditTrail(ctx, q); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		return optimizeFTS(ctx, conn)
	})
}

// optimizeFTS merges each full-text index into one segment, inside the
// import's transaction. A bulk load leaves an FTS4 table with up to 15
// segments on each of its levels (FTS4 merges 16 into one of the next
// level as it goes), which the server's merger (fts_merge.go) would
// otherwise rewrite in its first minutes of serving, in small steps among
// the requests, and which until then every search reads one by one.
func optimizeFTS(ctx context.Context, conn *sql.Conn) error {
	for _, t := range ftsTables {
		if _, err := conn.ExecContext(ctx, `INSERT INTO `+t+` (`+t+`) VALUES ('optimize')`); err != nil {
			return fmt.Errorf("import: optimize %s: %w", t, err)
		}
	}
	return nil
}

// importTx is Import's db.ImportTx: prepared inserts on the writer's
// connection, one per table, made on first use.
type importTx struct {
	conn  *sql.Conn
	stmts map[db.Table]*sql.Stmt
}

// stmt returns the prepared insert of table.
func (im *importTx) stmt(ctx context.Context, table db.Table, columns string) (*sql.Stmt, error) {
	if s := im.stmts[table]; s != nil {
		return s, nil
	}
	n := strings.Count(columns, ",") + 1
	s, err := im.conn.PrepareContext(ctx, `INSERT INTO `+string(table)+` (`+columns+`) VALUES (`+strings.Repeat("?, ", n-1)+`?)`)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", table, err)
	}
	if im.stmts == nil {
		im.stmts = map[db.Table]*sql.Stmt{}
	}
	im.stmts[table] = s
	return s, nil
}

// close closes the prepared statements.
func (im *importTx) close() {
	for _, s := range im.stmts {
		s.Close()
	}
}

// insertAll inserts rows with table's statement, args giving each row's
// values in columns' order.
func insertAll[T any](ctx context.Context, im *importTx, table db.Table, columns string, rows []T, args func(T) []any) error {
	s, err := im.stmt(ctx, table, columns)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if _, err := s.ExecContext(ctx, args(r)...); err != nil {
			return fmt.Errorf("import %s: %w", table, err)
		}
	}
	return nil
}

// Users inserts users with their search text, as CreateUser does.
func (im *importTx) Users(ctx context.Context, rows []db.UserRow) error {
	return insertAll(ctx, im, db.TableUsers, userColumns+`, search_text`, rows, func(u db.UserRow) []any {
		return []any{u.ID, u.Email, u.FirstName, u.LastName, u.PasswordHash, u.IsStaff, u.IsActive, u.TokenVersion,
			micros(u.Created), micros(u.Updated), u.Version, db.UserSearchText(u.User)}
	})
}

// MedicalRecords inserts records with their search words, indexed as
// CreateRecord indexes them (record_search.go), but leaves the counters
// and the word counts to Recount.
func (im *importTx) MedicalRecords(ctx context.Context, rows []model.MedicalRecord) error {
	s, err := im.stmt(ctx, db.TableMedicalRecords, recordColumns+`, patient_name_key, doctor_key, search_words`)
	if err != nil {
		return err
	}
	index, err := im.stmt(ctx, recordSearchTable, `docid, search_words`)
	if err != nil {
		return err
	}
	for _, r := range rows {
		words := db.RecordSearchWords(r)
		res, err := s.ExecContext(ctx, r.ID, r.UserID, r.PatientName, r.DateOfBirth.String(), r.Diagnosis, r.Treatment,
			r.DateOfTreatment.String(), r.Doctor, micros(r.Created), micros(r.Updated), r.Version,
			db.Fold(r.PatientName), db.Fold(r.Doctor), words)
		if err != nil {
			return fmt.Errorf("import %s: %w", db.TableMedicalRecords, err)
		}
		rowid, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("import %s: %w", db.TableMedicalRecords, err)
		}
		if _, err := index.ExecContext(ctx, rowid, words); err != nil {
			return fmt.Errorf("import %s: index: %w", db.TableMedicalRecords, err)
		}
	}
	return nil
}

// RefreshTokens inserts tokens with every column of their rotation state.
func (im *importTx) RefreshTokens(ctx context.Context, rows []db.RefreshToken) error {
	return insertAll(ctx, im, db.TableRefreshTokens,
		`id, user_id, family_id, token_hash, created, expires_at, used_at, revoked_at, rotated_by, child_id, grace_used_at`, rows,
		func(t db.RefreshToken) []any {
			// An empty child id is stored as NULL, as a token not yet
			// rotated has it.
			var child any
			if t.ChildID != "" {
				child = t.ChildID
			}
			return []any{t.ID, t.UserID, t.FamilyID, t.Hash, micros(t.Created), micros(t.ExpiresAt),
				optionalMicros(t.UsedAt), optionalMicros(t.RevokedAt), t.RotatedBy, child, optionalMicros(t.GraceUsedAt)}
		})
}

// OTPCodes inserts codes with their attempts and use.
func (im *importTx) OTPCodes(ctx context.Context, rows []db.OTPCode) error {
	return insertAll(ctx, im, db.TableOTPCodes, otpColumns, rows, func(c db.OTPCode) []any {
		return []any{c.ID, c.UserID, c.Hash, micros(c.Created), micros(c.ExpiresAt), c.Attempts, optionalMicros(c.UsedAt)}
	})
}

// SSHKeys inserts keys with their last use.
func (im *importTx) SSHKeys(ctx context.Context, rows []db.SSHKeyRow) error {
	return insertAll(ctx, im, db.TableSSHKeys, sshKeyColumns, rows, func(k db.SSHKeyRow) []any {
		return []any{k.ID, k.UserID, k.Name, k.Type, k.Fingerprint, k.PublicKey, micros(k.Created), optionalMicros(k.LastUsed)}
	})
}

// APITokens inserts tokens with their hashes, last use and revocation.
func (im *importTx) APITokens(ctx context.Context, rows []db.APITokenRow) error {
	return insertAll(ctx, im, db.TableAPITokens, apiTokenColumns, rows, func(k db.APITokenRow) []any {
		return []any{k.ID, k.UserID, k.Name, strings.Join(k.Scopes, " "), k.Hash, micros(k.Created), micros(k.Expires),
			optionalMicros(k.LastUsed), optionalMicros(k.RevokedAt)}
	})
}

// AuditEvents appends events to the trail, which its triggers allow (they
// refuse only UPDATE and DELETE), leaving the counters to Recount and the
// index of the records each served to Import's end.
func (im *importTx) AuditEvents(ctx context.Context, rows []model.AuditEvent) error {
	stored := make([]storedAudit, len(rows))
	for i, e := range rows {
		var err error
		if stored[i], err = storedAuditOf(e); err != nil {
			return fmt.Errorf("import %s: %w", db.TableAuditEvents, err)
		}
	}
	return insertAll(ctx, im, db.TableAuditEvents, auditColumns, stored, storedAudit.values)
}

// ResetRequests inserts outbox requests with their attempts and leases.
func (im *importTx) ResetRequests(ctx context.Context, rows []db.ResetRequest) error {
	return insertAll(ctx, im, db.TableResetRequests, resetRequestColumns, rows, func(r db.ResetRequest) []any {
		return []any{r.ID, r.Email, r.IP, r.RequestID, micros(r.RequestedAt), r.Attempts, optionalMicros(r.ClaimedUntil)}
	})
}

// Recount rebuilds the counts table from the rows, and the search word
// counts from the search index, in the transaction.
func (im *importTx) Recount(ctx context.Context) error {
	for _, stmt := range []string{`DELETE FROM counts`, `INSERT INTO counts (name, part, n) ` + trueCounts} {
		if _, err := im.conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("recount: %w", err)
		}
	}
	return recountSearchWords(ctx, im.conn)
}

// Tally counts the rows and reads the counters inside the transaction.
func (im *importTx) Tally(ctx context.Context) (db.Tally, error) {
	return tallyOf(ctx, im.conn)
}

// optionalMicros is the stored form of an optional time: NULL or Unix
// microseconds.
func optionalMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}
