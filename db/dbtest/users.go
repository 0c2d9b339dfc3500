package dbtest

import (
	"cmp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

var userTests = []test{
	{"RoundTrip", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		staff := db.UserRow{User: model.User{ID: uuid.NewString(), Email: "ada@example.org", FirstName: "Ada", LastName: "Lovelace",
			IsStaff: true, IsActive: true, Created: sec(1), Updated: sec(2)}, PasswordHash: "hash-1", TokenVersion: 7}
		inactive := db.UserRow{User: model.User{ID: uuid.NewString(), Email: "elo@example.org", FirstName: "Élodie", LastName: "",
			IsStaff: false, IsActive: false, Created: sec(3), Updated: sec(3)}, PasswordHash: "hash-2"}
		write(t, s, func(tx db.Tx) error {
			if err := tx.CreateUser(ctx, staff); err != nil {
				return err
			}
			return tx.CreateUser(ctx, inactive)
		})
		for _, want := range []db.UserRow{staff, inactive} {
			got, err := s.Read().UserByID(ctx, want.ID)
			mustErr(t, "UserByID", err, nil)
			checkUserRow(t, "UserByID", got, want)
			got, err = s.Read().UserByEmail(ctx, want.Email)
			mustErr(t, "UserByEmail", err, nil)
			checkUserRow(t, "UserByEmail", got, want)
			list, total, err := s.Read().ListUsers(ctx, db.UserFilter{OnlyID: want.ID, Limit: 10})
			mustErr(t, "ListUsers", err, nil)
			if len(list) != 1 || total != 1 {
				t.Fatalf("ListUsers OnlyID: %d users, total %d; want 1", len(list), total)
			}
			checkUser(t, "ListUsers", list[0], want.User)
			// Inside a Tx too.
			write(t, s, func(tx db.Tx) error {
				got, err := tx.UserByID(ctx, want.ID)
				mustErr(t, "Tx UserByID", err, nil)
				checkUserRow(t, "Tx UserByID", got, want)
				return nil
			})
		}
		_, err := s.Read().UserByID(ctx, uuid.NewString())
		wantErr(t, "UserByID of a missing user", err, db.ErrNotFound)
		_, err = s.Read().UserByEmail(ctx, "nobody@example.org")
		wantErr(t, "UserByEmail of a missing user", err, db.ErrNotFound)
	}},
	{"UserByEmailIgnoresCase", func(t *testing.T, s db.Store) {
		u := createUser(t, s, "ann@example.org")
		for _, email := range []string{"ann@example.org", "Ann@Example.ORG", "ANN@EXAMPLE.ORG"} {
			got, err := s.Read().UserByEmail(t.Context(), email)
			if err != nil || got.ID != u.ID {
				t.Errorf("UserByEmail(%q): %q, %v; want %q", email, got.ID, err, u.ID)
			}
		}
	}},
	{"DuplicateEmail", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		// The server lower-cases emails, so "A@x.org" and "a@x.org" both
		// arrive as "a@x.org".
		first := createUser(t, s, model.NormalizeEmail("A@x.org"))
		second := newUser(model.NormalizeEmail("a@x.org"), sec(5))
		err := s.Write(ctx, func(tx db.Tx) error { return tx.CreateUser(ctx, second) })
		wantErr(t, "CreateUser with a taken email", err, db.ErrConflict)
		_, err = s.Read().UserByID(ctx, second.ID)
		wantErr(t, "UserByID of the refused user", err, db.ErrNotFound)
		got, err := s.Read().UserByEmail(ctx, "a@x.org")
		if err != nil || got.ID != first.ID {
			t.Errorf("UserByEmail: %q, %v; want the first user %q", got.ID, err, first.ID)
		}
		if _, total, err := s.Read().ListUsers(ctx, db.UserFilter{Limit: 10}); err != nil || total != 1 {
			t.Errorf("ListUsers: total %d, %v; want 1", total, err)
		}
	}},
	{"UpdateUser", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "before@example.org")
		want := u
		want.FirstName, want.LastName, want.IsStaff, want.IsActive, want.Updated = "Zoë", "Ångström", true, false, at(time.Hour)
		// What UpdateUser does not store, it must not change either.
		change := want.User
		change.Email, change.Created = "after@example.org", at(-time.Hour)
		write(t, s, func(tx db.Tx) error { return tx.UpdateUser(ctx, change) })
		got, err := s.Read().UserByID(ctx, u.ID)
		mustErr(t, "UserByID", err, nil)
		checkUserRow(t, "updated user", got, want)
		// A search finds the new name, not the old.
		for search, n := range map[string]int{"zoë": 1, "ÅNGSTRÖM": 1, "ann": 0} {
			if _, total, err := s.Read().ListUsers(ctx, db.UserFilter{Search: search, Limit: 10}); err != nil || total != n {
				t.Errorf("ListUsers Search %q after UpdateUser: total %d, %v; want %d", search, total, err, n)
			}
		}
		missing := newUser("missing@example.org", at(0))
		err = s.Write(ctx, func(tx db.Tx) error { return tx.UpdateUser(ctx, missing.User) })
		wantErr(t, "UpdateUser of a missing user", err, db.ErrNotFound)
	}},
	{"UpdateUserKeepsEmailSearch", func(t *testing.T, s db.Store) {
		// UpdateUser does not store an email, so the search keeps
		// matching the stored one, whatever email u carries.
		ctx := t.Context()
		u := createUser(t, s, "before@example.org")
		change := u.User
		change.Email, change.FirstName = "after@example.org", "Renamed"
		write(t, s, func(tx db.Tx) error { return tx.UpdateUser(ctx, change) })
		got, err := s.Read().UserByID(ctx, u.ID)
		if err != nil || got.Email != u.Email {
			t.Errorf("email after UpdateUser: %q, %v; want %q", got.Email, err, u.Email)
		}
		for search, n := range map[string]int{"before@": 1, "after@": 0, "renamed": 1} {
			if _, total, err := s.Read().ListUsers(ctx, db.UserFilter{Search: search, Limit: 10}); err != nil || total != n {
				t.Errorf("ListUsers Search %q after UpdateUser: total %d, %v; want %d", search, total, err, n)
			}
		}
	}},
	{"SetPassword", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "pw@example.org")
		want := u
		for i := range 2 {
			want.PasswordHash, want.TokenVersion, want.Updated = "hash-"+string(rune('a'+i)), want.TokenVersion+1, at(time.Duration(i+1)*time.Minute)
			write(t, s, func(tx db.Tx) error { return tx.SetPassword(ctx, u.ID, want.PasswordHash, want.Updated) })
			got, err := s.Read().UserByID(ctx, u.ID)
			mustErr(t, "UserByID", err, nil)
			checkUserRow(t, "user after SetPassword", got, want)
		}
		err := s.Write(ctx, func(tx db.Tx) error { return tx.SetPassword(ctx, uuid.NewString(), "x", at(0)) })
		wantErr(t, "SetPassword of a missing user", err, db.ErrNotFound)
	}},
	{"InvalidateAccessTokens", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "inv@example.org")
		want := u
		for range 2 {
			want.TokenVersion++
			write(t, s, func(tx db.Tx) error { return tx.InvalidateAccessTokens(ctx, u.ID) })
			got, err := s.Read().UserByID(ctx, u.ID)
			mustErr(t, "UserByID", err, nil)
			checkUserRow(t, "user after InvalidateAccessTokens", got, want)
		}
		err := s.Write(ctx, func(tx db.Tx) error { return tx.InvalidateAccessTokens(ctx, uuid.NewString()) })
		wantErr(t, "InvalidateAccessTokens of a missing user", err, db.ErrNotFound)
	}},
	{"ListFilters", testListUsersFilters},
	{"ListPaging", testListUsersPaging},
}

// userFixture stores the users the list tests filter, by label.
func userFixture(t *testing.T, s db.Store) map[string]db.UserRow {
	mk := func(email, first, last string, staff, active bool, created int) db.UserRow {
		u := newUser(email, sec(created))
		u.FirstName, u.LastName, u.IsStaff, u.IsActive = first, last, staff, active
		return u
	}
	us := map[string]db.UserRow{
		"ada":    mk("ada@example.org", "Ada", "Lovelace", true, true, 1),
		"bob":    mk("bob@example.org", "Bob", "Builder", false, true, 2),
		"elodie": mk("elodie@example.org", "Élodie", "Dupont", false, false, 2), // same created as bob
		"carl":   mk("carl@example.org", "Carl", "Müller", true, false, 3),
		"pct":    mk("pct@example.org", "Sure", "100%", false, true, 4),
		"k1000":  mk("k1000@example.org", "Tim", "Thousand", false, true, 4),
		"ab":     mk("a_b@example.org", "Anna", "B", false, true, 5),
		"axb":    mk("axb@example.org", "Axel", "B", false, true, 5),
		"slash":  mk("slash@example.net", "Back\\slash", "C", false, true, 6),
	}
	write(t, s, func(tx db.Tx) error {
		for _, u := range us {
			if err := tx.CreateUser(t.Context(), u); err != nil {
				return err
			}
		}
		return nil
	})
	return us
}

// oldestFirst sorts users as ListUsers does: by created, then id.
func oldestFirst(us []model.User) []model.User {
	slices.SortFunc(us, func(a, b model.User) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return us
}

func testListUsersFilters(t *testing.T, s db.Store) {
	ctx := t.Context()
	us := userFixture(t, s)
	all := []string{"ada", "bob", "elodie", "carl", "pct", "k1000", "ab", "axb", "slash"}
	except := func(out ...string) []string {
		return slices.DeleteFunc(slices.Clone(all), func(l string) bool { return slices.Contains(out, l) })
	}
	for _, tc := range []struct {
		name string
		f    db.UserFilter
		want []string
	}{
		{"none", db.UserFilter{}, all},
		{"OnlyID", db.UserFilter{OnlyID: us["carl"].ID}, []string{"carl"}},
		{"OnlyID missing", db.UserFilter{OnlyID: uuid.NewString()}, nil},
		{"staff", db.UserFilter{IsStaff: ptr(true)}, []string{"ada", "carl"}},
		{"patients", db.UserFilter{IsStaff: ptr(false)}, except("ada", "carl")},
		{"active", db.UserFilter{IsActive: ptr(true)}, except("elodie", "carl")},
		{"inactive", db.UserFilter{IsActive: ptr(false)}, []string{"elodie", "carl"}},
		{"inactive staff", db.UserFilter{IsStaff: ptr(true), IsActive: ptr(false)}, []string{"carl"}},
		{"search email", db.UserFilter{Search: "BOB@EXAMPLE"}, []string{"bob"}},
		{"search domain", db.UserFilter{Search: "example.net"}, []string{"slash"}},
		{"search first name", db.UserFilter{Search: "ada"}, []string{"ada"}},
		{"search last name", db.UserFilter{Search: "lovelace"}, []string{"ada"}},
		{"search full name", db.UserFilter{Search: "Ada Lovelace"}, []string{"ada"}},
		{"search across email and name", db.UserFilter{Search: "example.orgada"}, nil},
		{"search lower-case accent", db.UserFilter{Search: "élodie"}, []string{"elodie"}},
		{"search upper-case accent", db.UserFilter{Search: "ÉLODIE"}, []string{"elodie"}},
		{"search upper-case umlaut", db.UserFilter{Search: "MÜLLER"}, []string{"carl"}},
		{"search lower-case umlaut", db.UserFilter{Search: "müller"}, []string{"carl"}},
		{"search percent literally", db.UserFilter{Search: "100%"}, []string{"pct"}},
		{"search underscore literally", db.UserFilter{Search: "a_b"}, []string{"ab"}},
		{"search backslash literally", db.UserFilter{Search: `k\s`}, []string{"slash"}},
		{"search no match", db.UserFilter{Search: "zzz"}, nil},
		{"search and staff", db.UserFilter{Search: "example.org", IsStaff: ptr(true), IsActive: ptr(true)}, []string{"ada"}},
		{"OnlyID and other filter", db.UserFilter{OnlyID: us["carl"].ID, IsActive: ptr(true)}, nil},
	} {
		var want []model.User
		for _, l := range tc.want {
			want = append(want, us[l].User)
		}
		wantIDs := ids(oldestFirst(want), userID)
		// A page holding all, and one-user pages (their totals are
		// counted rather than known from the page).
		f := tc.f
		f.Limit = 100
		got, total, err := s.Read().ListUsers(ctx, f)
		if err != nil {
			t.Errorf("%s: ListUsers: %v", tc.name, err)
			continue
		}
		checkIDs(t, tc.name, ids(got, userID), wantIDs)
		if total != len(wantIDs) {
			t.Errorf("%s: total %d, want %d", tc.name, total, len(wantIDs))
		}
		f.Limit = 1
		var paged []string
		for f.Offset = 0; f.Offset <= len(wantIDs); f.Offset++ {
			got, total, err := s.Read().ListUsers(ctx, f)
			if err != nil || total != len(wantIDs) {
				t.Errorf("%s: page at %d: total %d, %v; want %d", tc.name, f.Offset, total, err, len(wantIDs))
			}
			paged = append(paged, ids(got, userID)...)
		}
		checkIDs(t, tc.name+", one user a page", paged, wantIDs)
		checkKeyset(t, tc.name, wantIDs, 2, func(seek *db.Seek, limit int) ([]model.User, int, error) {
			f.Seek, f.Limit, f.Offset = seek, limit, 0
			return s.Read().ListUsers(ctx, f)
		}, db.UserPosition, userID)
	}
	// Every field comes back in a list.
	list, _, err := s.Read().ListUsers(ctx, db.UserFilter{Limit: 100})
	mustErr(t, "ListUsers", err, nil)
	byID := map[string]db.UserRow{}
	for _, u := range us {
		byID[u.ID] = u
	}
	for _, u := range list {
		checkUser(t, "listed user", u, byID[u.ID].User)
	}
}

func testListUsersPaging(t *testing.T, s db.Store) {
	ctx := t.Context()
	us := userFixture(t, s)
	var all []model.User
	for _, u := range us {
		all = append(all, u.User)
	}
	for _, f := range []db.UserFilter{{}, {IsActive: ptr(true)}, {Search: "example.org"}} {
		var want []model.User
		for _, u := range all {
			if (f.IsActive == nil || u.IsActive == *f.IsActive) && (f.Search == "" || u.Email != "slash@example.net") {
				want = append(want, u)
			}
		}
		wantIDs := ids(oldestFirst(want), userID)
		for _, limit := range []int{2, 3, 4} {
			f.Limit = limit
			var got []string
			for f.Offset = 0; f.Offset < len(wantIDs)+2*limit; f.Offset += limit {
				page, total, err := s.Read().ListUsers(ctx, f)
				if err != nil {
					t.Fatalf("%+v: %v", f, err)
				}
				if total != len(wantIDs) {
					t.Errorf("%+v: total %d, want %d", f, total, len(wantIDs))
				}
				if wantLen := min(limit, max(0, len(wantIDs)-f.Offset)); len(page) != wantLen {
					t.Errorf("%+v: %d users, want %d", f, len(page), wantLen)
				}
				got = append(got, ids(page, userID)...)
			}
			checkIDs(t, "pages of "+itoa(limit), got, wantIDs)
		}
	}
}

// itoa formats n.
func itoa(n int) string { return strconv.Itoa(n) }
