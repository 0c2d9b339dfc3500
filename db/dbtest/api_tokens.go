package dbtest

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// newAPIToken is a token of user's created at created, valid for 30 days.
func newAPIToken(userID string, created time.Time, scopes ...string) db.APITokenRow {
	return db.APITokenRow{
		APIToken: model.APIToken{ID: uuid.NewString(), Name: "cron " + created.Format(time.RFC3339Nano), Scopes: scopes,
			Created: created, Expires: created.Add(30 * 24 * time.Hour)},
		UserID: userID, Hash: randomBytes(32),
	}
}

// createAPIToken stores k.
func createAPIToken(t *testing.T, s db.Store, k db.APITokenRow) {
	t.Helper()
	write(t, s, func(tx db.Tx) error { return tx.CreateAPIToken(t.Context(), k) })
}

// checkAPIToken fails the test unless got holds every field of want.
func checkAPIToken(t *testing.T, what string, got, want db.APITokenRow) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.Name != want.Name || !slices.Equal(got.Scopes, want.Scopes) {
		t.Errorf("%s: %s of %s %q %v; want %s of %s %q %v", what, got.ID, got.UserID, got.Name, got.Scopes, want.ID, want.UserID, want.Name, want.Scopes)
	}
	checkBytes(t, what+" hash", got.Hash, want.Hash)
	checkTime(t, what+" created", got.Created, want.Created)
	checkTime(t, what+" expires", got.Expires, want.Expires)
	checkOptTime(t, what+" last used", got.LastUsed, want.LastUsed)
	checkOptTime(t, what+" revoked", got.RevokedAt, want.RevokedAt)
}

func apiTokenID(k model.APIToken) string { return k.ID }

var apiTokenTests = []test{
	{"LiveAPITokens", func(t *testing.T, s db.Store) {
		u := createUser(t, s, "live@example.org")
		other := createUser(t, s, "other@example.org")
		// Created at 0, 1 s, 2 s: each expires 30 days later.
		var ks []db.APITokenRow
		for i := range 3 {
			k := newAPIToken(u.ID, at(time.Duration(i)*time.Second), model.ScopeRecordsRead)
			createAPIToken(t, s, k)
			ks = append(ks, k)
		}
		createAPIToken(t, s, newAPIToken(other.ID, at(0), model.ScopeRecordsRead))
		write(t, s, func(tx db.Tx) error { return tx.RevokeAPIToken(t.Context(), u.ID, ks[2].ID, at(time.Hour)) })
		for _, tc := range []struct {
			what string
			at   time.Time
			want int
		}{
			{"before any expires (one revoked)", at(time.Hour), 2},
			{"the instant the first expires", ks[0].Expires, 1},
			{"after both expired", ks[1].Expires.Add(time.Microsecond), 0},
		} {
			n, err := s.Read().LiveAPITokens(t.Context(), u.ID, tc.at)
			mustErr(t, "LiveAPITokens "+tc.what, err, nil)
			if n != tc.want {
				t.Errorf("LiveAPITokens %s: %d, want %d", tc.what, n, tc.want)
			}
		}
		write(t, s, func(tx db.Tx) error {
			n, err := tx.LiveAPITokens(t.Context(), u.ID, at(time.Hour))
			mustErr(t, "Tx LiveAPITokens", err, nil)
			if n != 2 {
				t.Errorf("Tx LiveAPITokens: %d, want 2", n)
			}
			return nil
		})
		n, err := s.Read().LiveAPITokens(t.Context(), uuid.NewString(), at(0))
		mustErr(t, "LiveAPITokens of an unknown account", err, nil)
		if n != 0 {
			t.Errorf("LiveAPITokens of an unknown account: %d", n)
		}
	}},
	{"RoundTrip", func(t *testing.T, s db.Store) {
		u := createUser(t, s, "tokens@example.org")
		k := newAPIToken(u.ID, at(0), model.ScopeRecordsRead, model.ScopeAuditRead)
		k.Name = "Nightly export – Zürich"
		createAPIToken(t, s, k)
		got, err := s.Read().APITokenByHash(t.Context(), k.Hash)
		mustErr(t, "APITokenByHash", err, nil)
		checkAPIToken(t, "APITokenByHash", got, k)
		write(t, s, func(tx db.Tx) error {
			got, err := tx.APITokenByHash(t.Context(), k.Hash)
			mustErr(t, "Tx APITokenByHash", err, nil)
			checkAPIToken(t, "Tx APITokenByHash", got, k)
			return nil
		})
		_, err = s.Read().APITokenByHash(t.Context(), randomBytes(32))
		wantErr(t, "APITokenByHash of an unknown hash", err, db.ErrNotFound)
		list, n, err := s.Read().APITokensOf(t.Context(), db.APITokenFilter{UserID: u.ID, Limit: 10})
		mustErr(t, "APITokensOf", err, nil)
		if n != 1 || len(list) != 1 {
			t.Fatalf("APITokensOf = %d tokens, count %d; want 1", len(list), n)
		}
		checkAPIToken(t, "APITokensOf", db.APITokenRow{APIToken: list[0], UserID: u.ID, Hash: k.Hash}, k)
	}},
	{"HashUnique", func(t *testing.T, s db.Store) {
		u := createUser(t, s, "tokens@example.org")
		k := newAPIToken(u.ID, at(0), model.ScopeRecordsRead)
		createAPIToken(t, s, k)
		again := newAPIToken(u.ID, at(time.Second), model.ScopeRecordsRead)
		again.Hash = k.Hash
		var errs []error
		write(t, s, func(tx db.Tx) error {
			errs = append(errs, tx.CreateAPIToken(t.Context(), again))
			// The transaction stays usable after the conflict.
			errs = append(errs, tx.CreateAPIToken(t.Context(), newAPIToken(u.ID, at(2*time.Second), model.ScopeUsersRead)))
			return nil
		})
		wantErr(t, "CreateAPIToken with a taken hash", errs[0], db.ErrConflict)
		mustErr(t, "CreateAPIToken after the conflict", errs[1], nil)
	}},
	{"ListNewestFirstPaged", func(t *testing.T, s db.Store) {
		u := createUser(t, s, "tokens@example.org")
		other := createUser(t, s, "other@example.org")
		var want []string
		for i := range 5 {
			k := newAPIToken(u.ID, sec(i), model.ScopeRecordsRead)
			createAPIToken(t, s, k)
			want = append([]string{k.ID}, want...)
		}
		createAPIToken(t, s, newAPIToken(other.ID, sec(10), model.ScopeRecordsRead))
		for _, tc := range []struct{ limit, offset int }{{2, 0}, {2, 2}, {2, 4}, {10, 0}, {3, 5}} {
			list, n, err := s.Read().APITokensOf(t.Context(), db.APITokenFilter{UserID: u.ID, Limit: tc.limit, Offset: tc.offset})
			mustErr(t, "APITokensOf", err, nil)
			if n != 5 {
				t.Errorf("APITokensOf(limit %d, offset %d) count = %d; want 5", tc.limit, tc.offset, n)
			}
			end := min(tc.offset+tc.limit, len(want))
			checkIDs(t, "APITokensOf page", ids(list, apiTokenID), want[min(tc.offset, end):end])
		}
		list, n, err := s.Read().APITokensOf(t.Context(), db.APITokenFilter{UserID: uuid.NewString(), Limit: 10})
		mustErr(t, "APITokensOf of a user without tokens", err, nil)
		if n != 0 || list == nil || len(list) != 0 {
			t.Errorf("APITokensOf of a user without tokens = %v, %d; want an empty, non-nil list", list, n)
		}
		list, _, err = s.Read().APITokensOf(t.Context(), db.APITokenFilter{UserID: "not-a-uuid", Limit: 10})
		mustErr(t, "APITokensOf of a malformed id", err, nil)
		if len(list) != 0 {
			t.Errorf("APITokensOf of a malformed id = %v", list)
		}
	}},
	{"Revoke", func(t *testing.T, s db.Store) {
		u := createUser(t, s, "tokens@example.org")
		other := createUser(t, s, "other@example.org")
		k := newAPIToken(u.ID, at(0), model.ScopeRecordsRead)
		kept := newAPIToken(u.ID, at(time.Second), model.ScopeRecordsWrite)
		createAPIToken(t, s, k)
		createAPIToken(t, s, kept)
		var errs []error
		write(t, s, func(tx db.Tx) error {
			errs = append(errs, tx.RevokeAPIToken(t.Context(), other.ID, k.ID, at(time.Hour)))
			errs = append(errs, tx.RevokeAPIToken(t.Context(), u.ID, uuid.NewString(), at(time.Hour)))
			errs = append(errs, tx.RevokeAPIToken(t.Context(), u.ID, "nope", at(time.Hour)))
			return nil
		})
		for i, err := range errs {
			wantErr(t, []string{"RevokeAPIToken of another's", "RevokeAPIToken of an unknown id", "RevokeAPIToken of a malformed id"}[i], err, db.ErrNotFound)
		}
		write(t, s, func(tx db.Tx) error { return tx.RevokeAPIToken(t.Context(), u.ID, k.ID, at(time.Hour)) })
		got, err := s.Read().APITokenByHash(t.Context(), k.Hash)
		mustErr(t, "APITokenByHash of a revoked token", err, nil)
		k.RevokedAt = ptr(at(time.Hour))
		checkAPIToken(t, "revoked", got, k)
		var again error
		write(t, s, func(tx db.Tx) error {
			again = tx.RevokeAPIToken(t.Context(), u.ID, k.ID, at(2*time.Hour))
			return nil
		})
		wantErr(t, "RevokeAPIToken twice", again, db.ErrNotFound)
		got, _ = s.Read().APITokenByHash(t.Context(), k.Hash)
		checkOptTime(t, "revoked once", got.RevokedAt, k.RevokedAt)
		list, n, err := s.Read().APITokensOf(t.Context(), db.APITokenFilter{UserID: u.ID, Limit: 10})
		mustErr(t, "APITokensOf", err, nil)
		if n != 1 {
			t.Errorf("APITokensOf count = %d; want 1 (the revoked token left out)", n)
		}
		checkIDs(t, "APITokensOf after revoking", ids(list, apiTokenID), []string{kept.ID})
	}},
	{"RevokeAllOfAUser", func(t *testing.T, s db.Store) {
		u := createUser(t, s, "tokens@example.org")
		other := createUser(t, s, "other@example.org")
		a := newAPIToken(u.ID, at(0), model.ScopeRecordsRead)
		b := newAPIToken(u.ID, at(time.Second), model.ScopeRecordsWrite)
		done := newAPIToken(u.ID, at(2*time.Second), model.ScopeUsersRead)
		theirs := newAPIToken(other.ID, at(3*time.Second), model.ScopeRecordsRead)
		for _, k := range []db.APITokenRow{a, b, done, theirs} {
			createAPIToken(t, s, k)
		}
		write(t, s, func(tx db.Tx) error { return tx.RevokeAPIToken(t.Context(), u.ID, done.ID, at(time.Minute)) })
		var revoked, none, unknown []string
		write(t, s, func(tx db.Tx) error {
			var err error
			revoked, err = tx.RevokeUserAPITokens(t.Context(), u.ID, at(time.Hour))
			mustErr(t, "RevokeUserAPITokens", err, nil)
			none, err = tx.RevokeUserAPITokens(t.Context(), u.ID, at(2*time.Hour))
			mustErr(t, "RevokeUserAPITokens again", err, nil)
			unknown, err = tx.RevokeUserAPITokens(t.Context(), uuid.NewString(), at(time.Hour))
			mustErr(t, "RevokeUserAPITokens of an unknown account", err, nil)
			return nil
		})
		slices.Sort(revoked)
		want := []string{a.ID, b.ID}
		slices.Sort(want)
		checkIDs(t, "revoked", revoked, want)
		if none == nil || len(none) != 0 || unknown == nil || len(unknown) != 0 {
			t.Errorf("revoking again = %v, of an unknown account = %v; want two empty slices", none, unknown)
		}
		for _, c := range []struct {
			k       db.APITokenRow
			revoked *time.Time
		}{{a, ptr(at(time.Hour))}, {b, ptr(at(time.Hour))}, {done, ptr(at(time.Minute))}, {theirs, nil}} {
			got, err := s.Read().APITokenByHash(t.Context(), c.k.Hash)
			mustErr(t, "APITokenByHash", err, nil)
			checkOptTime(t, c.k.Name+" revoked", got.RevokedAt, c.revoked)
		}
		_, n, err := s.Read().APITokensOf(t.Context(), db.APITokenFilter{UserID: u.ID, Limit: 10})
		mustErr(t, "APITokensOf", err, nil)
		if n != 0 {
			t.Errorf("APITokensOf count = %d after revoking them all; want 0", n)
		}
	}},
	{"Touch", func(t *testing.T, s db.Store) {
		u := createUser(t, s, "tokens@example.org")
		k := newAPIToken(u.ID, at(0), model.ScopeRecordsRead)
		createAPIToken(t, s, k)
		touch := func(when time.Time) {
			t.Helper()
			write(t, s, func(tx db.Tx) error { return tx.TouchAPIToken(t.Context(), k.ID, when) })
		}
		lastUsed := func() *time.Time {
			t.Helper()
			got, err := s.Read().APITokenByHash(t.Context(), k.Hash)
			mustErr(t, "APITokenByHash", err, nil)
			return got.LastUsed
		}
		touch(sec(10))
		checkOptTime(t, "first use", lastUsed(), ptr(sec(10)))
		// Within a minute of the last recorded use: nothing written.
		touch(sec(69))
		checkOptTime(t, "use within a minute", lastUsed(), ptr(sec(10)))
		touch(sec(71))
		checkOptTime(t, "use after a minute", lastUsed(), ptr(sec(71)))
		// An older use, of a request that ran long, never moves it back.
		touch(sec(5))
		checkOptTime(t, "older use", lastUsed(), ptr(sec(71)))
		write(t, s, func(tx db.Tx) error {
			mustErr(t, "TouchAPIToken of an unknown id", tx.TouchAPIToken(t.Context(), uuid.NewString(), sec(100)), nil)
			mustErr(t, "TouchAPIToken of a malformed id", tx.TouchAPIToken(t.Context(), "nope", sec(100)), nil)
			return nil
		})
	}},
	{"DeletedWithUser", func(t *testing.T, s db.Store) {
		// Nothing deletes accounts; the foreign key keeps a token from
		// naming an account that does not exist.
		k := newAPIToken(uuid.NewString(), at(0), model.ScopeRecordsRead)
		var err error
		s.Write(t.Context(), func(tx db.Tx) error {
			err = tx.CreateAPIToken(t.Context(), k)
			return err
		})
		if err == nil {
			t.Fatal("CreateAPIToken of an unknown account succeeded")
		}
	}},
}
