package dbtest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// newOTP is a code of user's created at created, valid for ten minutes.
func newOTP(userID string, created time.Time) db.OTPCode {
	return db.OTPCode{ID: uuid.NewString(), UserID: userID, Hash: randomBytes(32), Created: created, ExpiresAt: created.Add(10 * time.Minute)}
}

// createOTP stores c.
func createOTP(t *testing.T, s db.Store, c db.OTPCode) {
	t.Helper()
	write(t, s, func(tx db.Tx) error { return tx.CreateOTP(t.Context(), c) })
}

// checkOTP fails the test unless got holds every field of want.
func checkOTP(t *testing.T, what string, got, want db.OTPCode) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.Attempts != want.Attempts {
		t.Errorf("%s: id %s, user %s, attempts %d; want %s, %s, %d", what, got.ID, got.UserID, got.Attempts, want.ID, want.UserID, want.Attempts)
	}
	checkBytes(t, what+" hash", got.Hash, want.Hash)
	checkTime(t, what+" created", got.Created, want.Created)
	checkTime(t, what+" expires", got.ExpiresAt, want.ExpiresAt)
	checkOptTime(t, what+" used", got.UsedAt, want.UsedAt)
}

var otpTests = []test{
	{"RoundTrip", func(t *testing.T, s db.Store) {
		u := createUser(t, s, "otp@example.org")
		c := newOTP(u.ID, at(0))
		createOTP(t, s, c)
		got, err := s.Read().ActiveOTP(t.Context(), u.ID, t0, 5)
		mustErr(t, "ActiveOTP", err, nil)
		checkOTP(t, "ActiveOTP", got, c)
		write(t, s, func(tx db.Tx) error {
			got, err := tx.ActiveOTP(t.Context(), u.ID, t0, 5)
			mustErr(t, "Tx ActiveOTP", err, nil)
			checkOTP(t, "Tx ActiveOTP", got, c)
			return nil
		})
		_, err = s.Read().ActiveOTP(t.Context(), createUser(t, s, "other@example.org").ID, t0, 5)
		wantErr(t, "ActiveOTP of a user without codes", err, db.ErrNotFound)
	}},
	{"Expiry", func(t *testing.T, s db.Store) {
		u := createUser(t, s, "exp@example.org")
		c := newOTP(u.ID, at(0))
		createOTP(t, s, c)
		for _, tc := range []struct {
			now  time.Time
			want error
		}{
			{c.Created, nil},
			{c.ExpiresAt.Add(-time.Microsecond), nil},
			{c.ExpiresAt, db.ErrNotFound}, // has expired at its expiry
			{c.ExpiresAt.Add(time.Microsecond), db.ErrNotFound},
			{c.ExpiresAt.Add(24 * time.Hour), db.ErrNotFound},
		} {
			_, err := s.Read().ActiveOTP(t.Context(), u.ID, tc.now, 5)
			wantErr(t, "ActiveOTP at "+tc.now.Sub(c.ExpiresAt).String()+" from expiry", err, tc.want)
		}
	}},
	{"Attempts", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "att@example.org")
		c := newOTP(u.ID, at(0))
		createOTP(t, s, c)
		for range 3 {
			write(t, s, func(tx db.Tx) error { return tx.CountOTPAttempt(ctx, c.ID) })
		}
		c.Attempts = 3
		for max, want := range map[int]error{5: nil, 4: nil, 3: db.ErrNotFound, 1: db.ErrNotFound} {
			got, err := s.Read().ActiveOTP(ctx, u.ID, t0, max)
			wantErr(t, "ActiveOTP after 3 attempts, at most "+itoa(max), err, want)
			if want == nil && err == nil {
				checkOTP(t, "ActiveOTP", got, c)
			}
		}
	}},
	{"UseOTP", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "use@example.org")
		c := newOTP(u.ID, at(0))
		createOTP(t, s, c)
		write(t, s, func(tx db.Tx) error { return tx.UseOTP(ctx, c.ID, at(time.Minute)) })
		_, err := s.Read().ActiveOTP(ctx, u.ID, t0, 5)
		wantErr(t, "ActiveOTP of a used code", err, db.ErrNotFound)
		err = s.Write(ctx, func(tx db.Tx) error { return tx.UseOTP(ctx, c.ID, at(2*time.Minute)) })
		wantErr(t, "UseOTP twice", err, db.ErrConflict)
	}},
	{"CreateOTPVoidsEarlierCodes", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u, other := createUser(t, s, "void@example.org"), createUser(t, s, "keep@example.org")
		kept := newOTP(other.ID, at(0))
		createOTP(t, s, kept)
		earlier, later := newOTP(u.ID, at(time.Minute)), newOTP(u.ID, at(2*time.Minute))
		createOTP(t, s, earlier)
		createOTP(t, s, later)
		got, err := s.Read().ActiveOTP(ctx, u.ID, at(3*time.Minute), 5)
		mustErr(t, "ActiveOTP", err, nil)
		if got.ID != later.ID {
			t.Errorf("ActiveOTP returned %s, want the later code %s: the earlier was not voided", got.ID, later.ID)
		}
		err = s.Write(ctx, func(tx db.Tx) error { return tx.UseOTP(ctx, earlier.ID, at(3*time.Minute)) })
		wantErr(t, "UseOTP of a voided code", err, db.ErrConflict)
		write(t, s, func(tx db.Tx) error { return tx.UseOTP(ctx, later.ID, at(3*time.Minute)) })
		_, err = s.Read().ActiveOTP(ctx, u.ID, at(3*time.Minute), 5)
		wantErr(t, "ActiveOTP once the later code is used", err, db.ErrNotFound)
		// Another user's code stays.
		got, err = s.Read().ActiveOTP(ctx, other.ID, t0, 5)
		if err != nil || got.ID != kept.ID {
			t.Errorf("ActiveOTP of another user: %s, %v; want %s", got.ID, err, kept.ID)
		}
	}},
	{"CreateOTPOfTheSameTimeVoidsTheOther", func(t *testing.T, s db.Store) {
		// Two requests of one instant: the one issued last wins, as
		// before codes were ordered by their requests.
		ctx := t.Context()
		u := createUser(t, s, "tie@example.org")
		first, second := newOTP(u.ID, at(time.Minute)), newOTP(u.ID, at(time.Minute))
		createOTP(t, s, first)
		createOTP(t, s, second)
		got, err := s.Read().ActiveOTP(ctx, u.ID, at(2*time.Minute), 5)
		if err != nil || got.ID != second.ID {
			t.Fatalf("ActiveOTP: %s, %v; want the second code %s", got.ID, err, second.ID)
		}
		err = s.Write(ctx, func(tx db.Tx) error { return tx.UseOTP(ctx, first.ID, at(2*time.Minute)) })
		wantErr(t, "UseOTP of the voided first code", err, db.ErrConflict)
	}},
	{"CreateOTPOlderThanANewerCodeIsSuperseded", func(t *testing.T, s db.Store) {
		// Requests served out of order: the newer request's code was
		// issued first, so the older request issues nothing.
		ctx := t.Context()
		u, other := createUser(t, s, "order@example.org"), createUser(t, s, "other@example.org")
		newer, older := newOTP(u.ID, at(2*time.Minute)), newOTP(u.ID, at(time.Minute))
		createOTP(t, s, newer)
		err := s.Write(ctx, func(tx db.Tx) error { return tx.CreateOTP(ctx, older) })
		mustErr(t, "CreateOTP older than the user's newest", err, db.ErrSuperseded)
		got, err := s.Read().ActiveOTP(ctx, u.ID, at(3*time.Minute), 5)
		if err != nil || got.ID != newer.ID {
			t.Fatalf("ActiveOTP: %s, %v; want the newer code %s, still valid", got.ID, err, newer.ID)
		}
		err = s.Write(ctx, func(tx db.Tx) error { return tx.UseOTP(ctx, older.ID, at(3*time.Minute)) })
		wantErr(t, "UseOTP of the superseded code, never stored", err, db.ErrConflict)
		// Another user's newer code supersedes nothing of this one's.
		createOTP(t, s, newOTP(other.ID, at(time.Hour)))
		later := newOTP(u.ID, at(4*time.Minute))
		createOTP(t, s, later)
		got, err = s.Read().ActiveOTP(ctx, u.ID, at(5*time.Minute), 5)
		if err != nil || got.ID != later.ID {
			t.Fatalf("ActiveOTP after a later request: %s, %v; want %s", got.ID, err, later.ID)
		}
		// A used newer code supersedes too: the request it answered came later.
		write(t, s, func(tx db.Tx) error { return tx.UseOTP(ctx, later.ID, at(5*time.Minute)) })
		err = s.Write(ctx, func(tx db.Tx) error { return tx.CreateOTP(ctx, newOTP(u.ID, at(3*time.Minute))) })
		wantErr(t, "CreateOTP older than a used code", err, db.ErrSuperseded)
	}},
	{"CreateOTPOfAMissingUser", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		for _, id := range []string{uuid.NewString(), "not-a-uuid"} {
			err := s.Write(ctx, func(tx db.Tx) error { return tx.CreateOTP(ctx, newOTP(id, at(0))) })
			wantErr(t, "CreateOTP of user "+id, err, db.ErrNotFound)
		}
	}},
}

// newRefreshToken is a token of user's in family, created at created and
// valid for a day.
func newRefreshToken(userID, familyID string, created time.Time) db.RefreshToken {
	return db.RefreshToken{ID: uuid.NewString(), UserID: userID, FamilyID: familyID, Hash: randomBytes(32),
		Created: created, ExpiresAt: created.Add(24 * time.Hour)}
}

// createTokens stores ts in one transaction.
func createTokens(t *testing.T, s db.Store, ts ...db.RefreshToken) {
	t.Helper()
	write(t, s, func(tx db.Tx) error {
		for _, rt := range ts {
			if err := tx.CreateRefreshToken(t.Context(), rt); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkToken fails the test unless the stored token want.ID holds every
// field of want, read by id and by hash.
func checkToken(t *testing.T, s db.Store, what string, want db.RefreshToken) {
	t.Helper()
	byID, err := s.Read().RefreshTokenByID(t.Context(), want.ID)
	mustErr(t, what+": RefreshTokenByID", err, nil)
	byHash, err := s.Read().RefreshTokenByHash(t.Context(), want.Hash)
	mustErr(t, what+": RefreshTokenByHash", err, nil)
	for how, got := range map[string]db.RefreshToken{"by id": byID, "by hash": byHash} {
		w := what + " " + how
		if got.ID != want.ID || got.UserID != want.UserID || got.FamilyID != want.FamilyID || got.ChildID != want.ChildID {
			t.Errorf("%s: %+v\nwant %+v", w, got, want)
		}
		checkBytes(t, w+" hash", got.Hash, want.Hash)
		checkBytes(t, w+" rotated by", got.RotatedBy, want.RotatedBy)
		checkTime(t, w+" created", got.Created, want.Created)
		checkTime(t, w+" expires", got.ExpiresAt, want.ExpiresAt)
		checkOptTime(t, w+" used", got.UsedAt, want.UsedAt)
		checkOptTime(t, w+" revoked", got.RevokedAt, want.RevokedAt)
		checkOptTime(t, w+" grace used", got.GraceUsedAt, want.GraceUsedAt)
	}
}

var refreshTests = []test{
	{"RoundTrip", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "rt@example.org")
		rt := newRefreshToken(u.ID, uuid.NewString(), at(0))
		rt.Hash = append([]byte{0, 0xff, 0}, rt.Hash...) // any bytes
		createTokens(t, s, rt)
		checkToken(t, s, "new token", rt)
		_, err := s.Read().RefreshTokenByID(ctx, uuid.NewString())
		wantErr(t, "RefreshTokenByID of a missing token", err, db.ErrNotFound)
		_, err = s.Read().RefreshTokenByHash(ctx, randomBytes(32))
		wantErr(t, "RefreshTokenByHash of a missing token", err, db.ErrNotFound)
		_, err = s.Read().RefreshTokenByHash(ctx, rt.Hash[:len(rt.Hash)-1])
		wantErr(t, "RefreshTokenByHash of a prefix", err, db.ErrNotFound)
		write(t, s, func(tx db.Tx) error {
			got, err := tx.RefreshTokenByHash(ctx, rt.Hash)
			if err != nil || got.ID != rt.ID {
				t.Errorf("Tx RefreshTokenByHash: %s, %v", got.ID, err)
			}
			return nil
		})
	}},
	{"MarkUsed", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "mark@example.org")
		parent := newRefreshToken(u.ID, uuid.NewString(), at(0))
		child := newRefreshToken(u.ID, parent.FamilyID, at(time.Minute))
		createTokens(t, s, parent)
		fp := randomBytes(32)
		write(t, s, func(tx db.Tx) error {
			if err := tx.CreateRefreshToken(ctx, child); err != nil {
				return err
			}
			return tx.MarkRefreshTokenUsed(ctx, parent.ID, at(time.Minute), fp, child.ID)
		})
		parent.UsedAt, parent.RotatedBy, parent.ChildID = ptr(at(time.Minute)), fp, child.ID
		checkToken(t, s, "rotated token", parent)
		checkToken(t, s, "child", child)
		err := s.Write(ctx, func(tx db.Tx) error {
			return tx.MarkRefreshTokenUsed(ctx, parent.ID, at(2*time.Minute), randomBytes(32), uuid.NewString())
		})
		wantErr(t, "MarkRefreshTokenUsed twice", err, db.ErrConflict)
		checkToken(t, s, "token rotated twice", parent)
		// A revoked token cannot be rotated.
		write(t, s, func(tx db.Tx) error { return tx.RevokeRefreshToken(ctx, child.ID, at(3*time.Minute)) })
		err = s.Write(ctx, func(tx db.Tx) error {
			return tx.MarkRefreshTokenUsed(ctx, child.ID, at(4*time.Minute), fp, uuid.NewString())
		})
		wantErr(t, "MarkRefreshTokenUsed of a revoked token", err, db.ErrConflict)
		child.RevokedAt = ptr(at(3 * time.Minute))
		checkToken(t, s, "revoked child", child)
	}},
	{"Grace", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "grace@example.org")
		a, b := newRefreshToken(u.ID, uuid.NewString(), at(0)), newRefreshToken(u.ID, uuid.NewString(), at(0))
		createTokens(t, s, a, b)
		for _, rt := range []*db.RefreshToken{&a, &b} {
			rt.UsedAt, rt.RotatedBy, rt.ChildID = ptr(at(time.Second)), []byte("fp"), uuid.NewString()
			write(t, s, func(tx db.Tx) error {
				return tx.MarkRefreshTokenUsed(ctx, rt.ID, *rt.UsedAt, rt.RotatedBy, rt.ChildID)
			})
		}
		write(t, s, func(tx db.Tx) error { return tx.UseRefreshGrace(ctx, a.ID, at(2*time.Second)) })
		a.GraceUsedAt = ptr(at(2 * time.Second))
		checkToken(t, s, "token after its grace", a)
		err := s.Write(ctx, func(tx db.Tx) error { return tx.UseRefreshGrace(ctx, a.ID, at(3*time.Second)) })
		wantErr(t, "UseRefreshGrace twice", err, db.ErrConflict)
		checkToken(t, s, "token after a second grace", a)
		write(t, s, func(tx db.Tx) error { return tx.RevokeRefreshToken(ctx, b.ID, at(2*time.Second)) })
		err = s.Write(ctx, func(tx db.Tx) error { return tx.UseRefreshGrace(ctx, b.ID, at(3*time.Second)) })
		wantErr(t, "UseRefreshGrace of a revoked token", err, db.ErrConflict)
		b.RevokedAt = ptr(at(2 * time.Second))
		checkToken(t, s, "revoked token after a grace", b)
	}},
	{"Revoke", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		ua, ub := createUser(t, s, "ua@example.org"), createUser(t, s, "ub@example.org")
		fam, other := uuid.NewString(), uuid.NewString()
		f1, f2, f3 := newRefreshToken(ua.ID, fam, at(0)), newRefreshToken(ua.ID, fam, sec(1)), newRefreshToken(ua.ID, fam, sec(2))
		o1 := newRefreshToken(ua.ID, other, sec(3))
		b1 := newRefreshToken(ub.ID, uuid.NewString(), sec(4))
		createTokens(t, s, f1, f2, f3, o1, b1)

		write(t, s, func(tx db.Tx) error { return tx.RevokeRefreshToken(ctx, f2.ID, at(time.Minute)) })
		f2.RevokedAt = ptr(at(time.Minute))
		checkToken(t, s, "revoked token", f2)
		checkToken(t, s, "its sibling", f1)
		// Revoking again keeps the first revocation's time.
		write(t, s, func(tx db.Tx) error { return tx.RevokeRefreshToken(ctx, f2.ID, at(2*time.Minute)) })
		checkToken(t, s, "token revoked twice", f2)

		write(t, s, func(tx db.Tx) error { return tx.RevokeRefreshFamily(ctx, fam, at(3*time.Minute)) })
		f1.RevokedAt, f3.RevokedAt = ptr(at(3*time.Minute)), ptr(at(3*time.Minute))
		for what, rt := range map[string]db.RefreshToken{"family member": f1, "family member revoked before": f2,
			"last family member": f3, "other family": o1, "other user": b1} {
			checkToken(t, s, what, rt)
		}

		write(t, s, func(tx db.Tx) error { return tx.RevokeUserRefreshTokens(ctx, ua.ID, at(4*time.Minute)) })
		o1.RevokedAt = ptr(at(4 * time.Minute))
		for what, rt := range map[string]db.RefreshToken{"user's token": o1, "user's token revoked before": f1, "other user": b1} {
			checkToken(t, s, what, rt)
		}
	}},
	{"DeleteExpired", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "expired@example.org")
		mk := func(expires time.Duration) db.RefreshToken {
			rt := newRefreshToken(u.ID, uuid.NewString(), at(-48*time.Hour))
			rt.ExpiresAt = at(expires)
			return rt
		}
		gone := []db.RefreshToken{mk(-2 * time.Hour), mk(-time.Hour), mk(-time.Microsecond)}
		kept := []db.RefreshToken{mk(0), mk(time.Microsecond), mk(time.Hour)} // mk(0) expires at the cutoff, not before
		createTokens(t, s, append(append([]db.RefreshToken(nil), gone...), kept...)...)
		// Used and revoked tokens expire like the others.
		write(t, s, func(tx db.Tx) error {
			if err := tx.MarkRefreshTokenUsed(ctx, gone[0].ID, at(-3*time.Hour), []byte("fp"), kept[2].ID); err != nil {
				return err
			}
			return tx.RevokeRefreshToken(ctx, gone[1].ID, at(-3*time.Hour))
		})
		var n int64
		write(t, s, func(tx db.Tx) (err error) {
			n, err = tx.DeleteExpiredRefreshTokens(ctx, at(0))
			return err
		})
		if n != int64(len(gone)) {
			t.Errorf("DeleteExpiredRefreshTokens: %d, want %d", n, len(gone))
		}
		for _, rt := range gone {
			_, err := s.Read().RefreshTokenByID(ctx, rt.ID)
			wantErr(t, "token expired "+at(0).Sub(rt.ExpiresAt).String()+" before the cutoff", err, db.ErrNotFound)
		}
		for _, rt := range kept {
			_, err := s.Read().RefreshTokenByID(ctx, rt.ID)
			wantErr(t, "token expiring "+rt.ExpiresAt.Sub(at(0)).String()+" after the cutoff", err, nil)
		}
		write(t, s, func(tx db.Tx) (err error) {
			n, err = tx.DeleteExpiredRefreshTokens(ctx, at(0))
			return err
		})
		if n != 0 {
			t.Errorf("DeleteExpiredRefreshTokens again: %d, want 0", n)
		}
	}},
}

// newSSHKey is a key of user's created at created, not yet stored.
func newSSHKey(userID string, created time.Time) db.SSHKeyRow {
	id := uuid.NewString()
	return db.SSHKeyRow{SSHKey: model.SSHKey{ID: id, Name: "laptop " + id[:4], Type: "ssh-ed25519",
		Fingerprint: "SHA256:" + id, Created: created}, UserID: userID, PublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA" + id}
}

// createKeys stores ks in one transaction.
func createKeys(t *testing.T, s db.Store, ks ...db.SSHKeyRow) {
	t.Helper()
	write(t, s, func(tx db.Tx) error {
		for _, k := range ks {
			if err := tx.CreateSSHKey(t.Context(), k); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkKey fails the test unless got holds every field of want.
func checkKey(t *testing.T, what string, got, want model.SSHKey) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.Type != want.Type || got.Fingerprint != want.Fingerprint {
		t.Errorf("%s: %+v\nwant %+v", what, got, want)
	}
	checkTime(t, what+" created", got.Created, want.Created)
	checkOptTime(t, what+" last used", got.LastUsed, want.LastUsed)
}

// checkKeyRow fails the test unless the key with want's fingerprint holds
// every field of want.
func checkKeyRow(t *testing.T, s db.Store, what string, want db.SSHKeyRow) {
	t.Helper()
	got, err := s.Read().SSHKeyByFingerprint(t.Context(), want.Fingerprint)
	mustErr(t, what+": SSHKeyByFingerprint", err, nil)
	checkKey(t, what, got.SSHKey, want.SSHKey)
	if got.UserID != want.UserID || got.PublicKey != want.PublicKey {
		t.Errorf("%s: user %s, key %q; want %s, %q", what, got.UserID, got.PublicKey, want.UserID, want.PublicKey)
	}
}

var sshKeyTests = []test{
	{"RoundTrip", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u, other := createUser(t, s, "keys@example.org"), createUser(t, s, "other@example.org")
		k1, k2, k3 := newSSHKey(u.ID, sec(2)), newSSHKey(u.ID, sec(1)), newSSHKey(u.ID, sec(1))
		ko := newSSHKey(other.ID, at(0))
		createKeys(t, s, k1, k2, k3, ko)
		for _, k := range []db.SSHKeyRow{k1, k2, k3, ko} {
			checkKeyRow(t, s, "key", k)
		}
		// Oldest first, ties by id.
		first, second := k2, k3
		if second.ID < first.ID {
			first, second = second, first
		}
		want := []model.SSHKey{first.SSHKey, second.SSHKey, k1.SSHKey}
		got, err := s.Read().SSHKeysOf(ctx, u.ID)
		mustErr(t, "SSHKeysOf", err, nil)
		checkIDs(t, "SSHKeysOf", ids(got, func(k model.SSHKey) string { return k.ID }), ids(want, func(k model.SSHKey) string { return k.ID }))
		for i := range min(len(got), len(want)) {
			checkKey(t, "SSHKeysOf", got[i], want[i])
		}
		_, err = s.Read().SSHKeyByFingerprint(ctx, "SHA256:missing")
		wantErr(t, "SSHKeyByFingerprint of a missing key", err, db.ErrNotFound)
		write(t, s, func(tx db.Tx) error {
			got, err := tx.SSHKeyByFingerprint(ctx, k1.Fingerprint)
			if err != nil || got.ID != k1.ID {
				t.Errorf("Tx SSHKeyByFingerprint: %s, %v", got.ID, err)
			}
			return nil
		})
	}},
	{"DuplicateFingerprint", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u, other := createUser(t, s, "dupkey@example.org"), createUser(t, s, "other@example.org")
		k := newSSHKey(u.ID, at(0))
		createKeys(t, s, k)
		for _, owner := range []string{u.ID, other.ID} {
			dup := newSSHKey(owner, sec(1))
			dup.Fingerprint = k.Fingerprint
			err := s.Write(ctx, func(tx db.Tx) error { return tx.CreateSSHKey(ctx, dup) })
			wantErr(t, "CreateSSHKey with a linked fingerprint", err, db.ErrConflict)
		}
		checkKeyRow(t, s, "first key", k)
		if keys, err := s.Read().SSHKeysOf(ctx, other.ID); err != nil || len(keys) != 0 {
			t.Errorf("SSHKeysOf the other user: %d keys, %v; want none", len(keys), err)
		}
	}},
	{"Delete", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u, other := createUser(t, s, "delkey@example.org"), createUser(t, s, "other@example.org")
		k, keep := newSSHKey(u.ID, at(0)), newSSHKey(u.ID, sec(1))
		createKeys(t, s, k, keep)
		err := s.Write(ctx, func(tx db.Tx) error { return tx.DeleteSSHKey(ctx, other.ID, k.ID) })
		wantErr(t, "DeleteSSHKey by another user", err, db.ErrNotFound)
		checkKeyRow(t, s, "key another user tried to delete", k)
		write(t, s, func(tx db.Tx) error { return tx.DeleteSSHKey(ctx, u.ID, k.ID) })
		_, err = s.Read().SSHKeyByFingerprint(ctx, k.Fingerprint)
		wantErr(t, "SSHKeyByFingerprint of a deleted key", err, db.ErrNotFound)
		err = s.Write(ctx, func(tx db.Tx) error { return tx.DeleteSSHKey(ctx, u.ID, k.ID) })
		wantErr(t, "DeleteSSHKey twice", err, db.ErrNotFound)
		checkKeyRow(t, s, "the other key", keep)
		// The fingerprint can be linked again.
		again := newSSHKey(other.ID, sec(2))
		again.Fingerprint = k.Fingerprint
		createKeys(t, s, again)
		checkKeyRow(t, s, "key linked again", again)
	}},
	{"Touch", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "touch@example.org")
		k, untouched := newSSHKey(u.ID, at(0)), newSSHKey(u.ID, sec(1))
		createKeys(t, s, k, untouched)
		for _, when := range []time.Time{at(time.Hour), at(2 * time.Hour)} {
			write(t, s, func(tx db.Tx) error { return tx.TouchSSHKey(ctx, k.ID, when) })
			k.LastUsed = &when
			checkKeyRow(t, s, "touched key", k)
		}
		checkKeyRow(t, s, "untouched key", untouched)
		keys, err := s.Read().SSHKeysOf(ctx, u.ID)
		mustErr(t, "SSHKeysOf", err, nil)
		if len(keys) != 2 {
			t.Fatalf("SSHKeysOf: %d keys, want 2", len(keys))
		}
		checkKey(t, "listed touched key", keys[0], k.SSHKey)
	}},
}
