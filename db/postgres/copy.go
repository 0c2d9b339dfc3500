package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// Export and Import: the PostgreSQL side of anavara db copy (db/copy.go).

var (
	_ db.Exporter = (*Store)(nil)
	_ db.Importer = (*Store)(nil)
)

// LatestVersion is the schema version the embedded migrations lead to
// (the package's LatestVersion), for db.Exporter.
func (s *Store) LatestVersion() int64 { return LatestVersion() }

// Export streams every row from one REPEATABLE READ READ ONLY transaction:
// every query in it sees the snapshot its first one took, while other
// sessions go on writing; a read-only transaction takes no lock that
// would hold them up.
func (s *Store) Export(ctx context.Context, sink db.ExportSink) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	// Read-only: there is nothing to commit.
	defer tx.Rollback(context.WithoutCancel(ctx))
	tally, err := tallyOf(ctx, tx)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := sink.Start(ctx, tally); err != nil {
		return err
	}
	// In creation order, which each table has an index for, so that a
	// SQLite target stores the rows in the order its own writes would have.
	if err := exportTable(ctx, tx, `SELECT `+userColumns+` FROM users ORDER BY created, id`, scanUser, sink.Users); err != nil {
		return err
	}
	if err := exportTable(ctx, tx, `SELECT `+recordColumns+` FROM medical_records ORDER BY created, id`, scanRecord, sink.MedicalRecords); err != nil {
		return err
	}
	if err := exportTable(ctx, tx, `SELECT `+refreshTokenColumns+` FROM refresh_tokens ORDER BY created, id`, scanRefreshToken, sink.RefreshTokens); err != nil {
		return err
	}
	if err := exportTable(ctx, tx, `SELECT `+otpColumns+` FROM otp_codes ORDER BY created, id`, scanOTP, sink.OTPCodes); err != nil {
		return err
	}
	if err := exportTable(ctx, tx, `SELECT `+sshKeyColumns+` FROM ssh_keys ORDER BY created, id`, scanSSHKey, sink.SSHKeys); err != nil {
		return err
	}
	if err := exportTable(ctx, tx, `SELECT `+apiTokenColumns+` FROM api_tokens ORDER BY created, id`, scanAPIToken, sink.APITokens); err != nil {
		return err
	}
	if err := exportTable(ctx, tx, `SELECT `+auditColumns+` FROM audit_events ORDER BY at, id`, scanAudit, sink.AuditEvents); err != nil {
		return err
	}
	return exportTable(ctx, tx, `SELECT `+resetRequestColumns+` FROM reset_requests ORDER BY requested_at, id`, scanResetRequest, sink.ResetRequests)
}

// exportTable runs query and hands its rows, scanned by scan, to deliver
// in batches of at most db.ExportBatch, reusing one batch's memory. pgx
// reads the rows off the connection as they are scanned, so the result is
// never held whole.
func exportTable[T any](ctx context.Context, tx pgx.Tx, query string, scan func(pgx.Row) (T, error), deliver func(context.Context, []T) error) error {
	rows, err := tx.Query(ctx, query)
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

// otpColumns are the columns scanOTP reads, in order.
const otpColumns = `id, user_id, code_hash, created, expires_at, attempts, used_at`

func scanOTP(row pgx.Row) (db.OTPCode, error) {
	var c db.OTPCode
	if err := row.Scan(&c.ID, &c.UserID, &c.Hash, &c.Created, &c.ExpiresAt, &c.Attempts, &c.UsedAt); err != nil {
		return c, err
	}
	c.Created, c.ExpiresAt, c.UsedAt = c.Created.UTC(), c.ExpiresAt.UTC(), utc(c.UsedAt)
	return c, nil
}

// tallyOf counts every copied table and reads the counters, stored and
// true, in q's snapshot.
func tallyOf(ctx context.Context, q querier) (db.Tally, error) {
	t := db.Tally{Rows: map[db.Table]int64{}}
	for _, table := range db.CopyTables {
		var n int64
		// The names are the db package's constants, not input.
		if err := q.QueryRow(ctx, `SELECT count(*) FROM `+string(table)).Scan(&n); err != nil {
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
	rows, err := q.Query(ctx, query)
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

// importLock locks every table a copy writes against every other writer
// for the whole import (readers carry on): the emptiness Import checks
// then holds until it commits, and no server's write interleaves with the
// copy's.
const importLock = `LOCK TABLE users, medical_records, refresh_tokens, otp_codes, ssh_keys, api_tokens, audit_events, reset_requests, search_word_counts, counts IN EXCLUSIVE MODE`

// Import runs load in one READ COMMITTED transaction with the copied
// tables locked (importLock). It is not retried: load streams from a
// source that cannot be replayed.
func (s *Store) Import(ctx context.Context, load func(db.ImportTx) error) (err error) {
	defer func() {
		if err == nil {
			s.health.Committed()
		} else {
			s.health.Observe(err)
		}
	}()
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	committed := false
	defer func() {
		if committed {
			return
		}
		broken := ptx.Conn().IsClosed()
		rerr := ptx.Rollback(context.WithoutCancel(ctx))
		if rerr != nil && !broken && !errors.Is(rerr, pgx.ErrTxClosed) {
			err = errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
	}()
	// Bumped whatever the outcome, as Write does.
	defer s.users.bump()
	if _, err := ptx.Exec(ctx, importLock); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	t, err := tallyOf(ctx, ptx)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	for _, table := range db.CopyTables {
		if t.Rows[table] > 0 {
			return &db.NotEmptyError{Rows: t.Rows}
		}
	}
	if err := load(&importTx{tx: ptx}); err != nil {
		return err
	}
	// As Write: a caller that goes away once load is done must not
	// interrupt the commit, which would leave it not knowing the outcome.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if err := ptx.Commit(cctx); err != nil {
		return fmt.Errorf("commit import: %w", err)
	}
	committed = true
	return nil
}

// importTx is Import's db.ImportTx: each batch goes in with one COPY.
type importTx struct {
	tx pgx.Tx
}

// copyRows copies rows into table's columns, values giving each row's
// values in columns' order.
func copyRows[T any](ctx context.Context, im *importTx, table db.Table, columns string, rows []T, values func(T) ([]any, error)) error {
	cols := strings.Split(columns, ", ")
	_, err := im.tx.CopyFrom(ctx, pgx.Identifier{string(table)}, cols, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		return values(rows[i])
	}))
	if err != nil {
		return fmt.Errorf("import %s: %w", table, err)
	}
	return nil
}

// ids checks that every one of ids is a uuid, naming the first that is
// not: the columns are uuid, and an id that is not one is the source's
// oddity, worth a clear message rather than an encoding error.
func ids(what string, ids ...string) error {
	for _, id := range ids {
		if !validID(id) {
			return fmt.Errorf("%s %q is not a uuid", what, id)
		}
	}
	return nil
}

// optionalAt is at for a nullable time.
func optionalAt(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := at(*t)
	return &v
}

// Users copies users with their search text, as CreateUser writes it.
func (im *importTx) Users(ctx context.Context, rows []db.UserRow) error {
	return copyRows(ctx, im, db.TableUsers, userColumns+`, search_text`, rows, func(u db.UserRow) ([]any, error) {
		if err := ids("user id", u.ID); err != nil {
			return nil, err
		}
		return []any{u.ID, u.Email, u.FirstName, u.LastName, u.PasswordHash, u.IsStaff, u.IsActive, u.TokenVersion,
			at(u.Created), at(u.Updated), u.Version, db.UserSearchText(u.User)}, nil
	})
}

// MedicalRecords copies records with their fold keys and search words, as
// CreateRecord writes them, leaving the counter to Recount.
func (im *importTx) MedicalRecords(ctx context.Context, rows []model.MedicalRecord) error {
	return copyRows(ctx, im, db.TableMedicalRecords, recordColumns+`, patient_name_key, doctor_key, search_words`, rows,
		func(r model.MedicalRecord) ([]any, error) {
			if err := ids("record id", r.ID, r.UserID); err != nil {
				return nil, err
			}
			return []any{r.ID, r.UserID, r.PatientName, dateArg(r.DateOfBirth), r.Diagnosis, r.Treatment,
				dateArg(r.DateOfTreatment), r.Doctor, at(r.Created), at(r.Updated), r.Version,
				db.Fold(r.PatientName), db.Fold(r.Doctor), db.RecordSearchWords(r)}, nil
		})
}

// RefreshTokens copies tokens with every column of their rotation state.
func (im *importTx) RefreshTokens(ctx context.Context, rows []db.RefreshToken) error {
	return copyRows(ctx, im, db.TableRefreshTokens,
		`id, user_id, family_id, token_hash, created, expires_at, used_at, revoked_at, rotated_by, child_id, grace_used_at`, rows,
		func(t db.RefreshToken) ([]any, error) {
			if err := ids("refresh token id", t.ID, t.UserID, t.FamilyID); err != nil {
				return nil, err
			}
			// No child reads back as "", as on SQLite: store NULL.
			var child *string
			if t.ChildID != "" {
				if err := ids("refresh token child id", t.ChildID); err != nil {
					return nil, err
				}
				child = &t.ChildID
			}
			return []any{t.ID, t.UserID, t.FamilyID, t.Hash, at(t.Created), at(t.ExpiresAt),
				optionalAt(t.UsedAt), optionalAt(t.RevokedAt), t.RotatedBy, child, optionalAt(t.GraceUsedAt)}, nil
		})
}

// OTPCodes copies codes with their attempts and use.
func (im *importTx) OTPCodes(ctx context.Context, rows []db.OTPCode) error {
	return copyRows(ctx, im, db.TableOTPCodes, otpColumns, rows, func(c db.OTPCode) ([]any, error) {
		if err := ids("code id", c.ID, c.UserID); err != nil {
			return nil, err
		}
		return []any{c.ID, c.UserID, c.Hash, at(c.Created), at(c.ExpiresAt), c.Attempts, optionalAt(c.UsedAt)}, nil
	})
}

// ResetRequests copies outbox requests with their attempts and leases.
func (im *importTx) ResetRequests(ctx context.Context, rows []db.ResetRequest) error {
	return copyRows(ctx, im, db.TableResetRequests, resetRequestColumns, rows, func(r db.ResetRequest) ([]any, error) {
		if err := ids("reset request id", r.ID); err != nil {
			return nil, err
		}
		return []any{r.ID, r.Email, r.IP, r.RequestID, at(r.RequestedAt), r.Attempts, optionalAt(r.ClaimedUntil)}, nil
	})
}

// SSHKeys copies keys with their last use.
func (im *importTx) SSHKeys(ctx context.Context, rows []db.SSHKeyRow) error {
	return copyRows(ctx, im, db.TableSSHKeys, sshKeyColumns, rows, func(k db.SSHKeyRow) ([]any, error) {
		if err := ids("ssh key id", k.ID, k.UserID); err != nil {
			return nil, err
		}
		return []any{k.ID, k.UserID, k.Name, k.Type, k.Fingerprint, k.PublicKey, at(k.Created), optionalAt(k.LastUsed)}, nil
	})
}

// APITokens copies tokens with their hashes, last use and revocation.
func (im *importTx) APITokens(ctx context.Context, rows []db.APITokenRow) error {
	return copyRows(ctx, im, db.TableAPITokens, apiTokenColumns, rows, func(k db.APITokenRow) ([]any, error) {
		if err := ids("api token id", k.ID, k.UserID); err != nil {
			return nil, err
		}
		return []any{k.ID, k.UserID, k.Name, k.Scopes, k.Hash, at(k.Created), at(k.Expires), optionalAt(k.LastUsed), optionalAt(k.RevokedAt)}, nil
	})
}

// AuditEvents appends events to the trail, which its triggers allow (they
// refuse only UPDATE, DELETE and TRUNCATE), leaving the counters to
// Recount.
func (im *importTx) AuditEvents(ctx context.Context, rows []model.AuditEvent) error {
	return copyRows(ctx, im, db.TableAuditEvents, auditColumns, rows, auditRow)
}

// Recount rebuilds the counts table and the search words' counts from
// the rows, in the transaction.
func (im *importTx) Recount(ctx context.Context) error {
	for _, stmt := range append([]string{`DELETE FROM counts`, `INSERT INTO counts (name, part, n) ` + trueCounts}, recountWordsSQL...) {
		if _, err := im.tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("recount: %w", err)
		}
	}
	return nil
}

// Tally counts the rows and reads the counters inside the transaction.
func (im *importTx) Tally(ctx context.Context) (db.Tally, error) {
	return tallyOf(ctx, im.tx)
}
