package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/password"
)

// Messages of the authentication module.
const (
	msgSignup          = "Signup successful"
	msgLogin           = "Login successful"
	msgResetSent       = "If an account exists for that email, a reset code has been sent."
	msgPasswordChanged = "Password changed successfully"
	msgWrongPassword   = "Your old password was entered incorrectly. Please enter it again."
)

// signup creates a patient account and signs it in.
func (s *Server) signup(c *fiber.Ctx) error {
	in, err := parseInput(c)
	if err != nil {
		return err
	}
	a := readNewAccount(in)
	if err := in.err(); err != nil {
		return err
	}
	if err := s.allow(c, s.limiters.Signup, clientIP(c)); err != nil {
		return err
	}
	var pair model.TokenPair
	u, err := auth.SignUp(c.UserContext(), s.db, s.hasher, a, auth.Actor{IP: clientIP(c), Via: clientVia(c)}, s.now, func(q db.Tx, u db.UserRow) error {
		var err error
		pair, err = s.tokens.Pair(c.UserContext(), q, u, "")
		return err
	})
	if errors.Is(err, db.ErrConflict) {
		return emailTaken()
	}
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(model.AuthResponse{
		AccessToken: pair.AccessToken, RefreshToken: pair.RefreshToken, User: u.User, Message: msgSignup,
	})
}

// readNewAccount reads and validates names, email and password from in,
// recording problems in in's field errors: the input of a signup or a
// staff-created account.
func readNewAccount(in *input) auth.NewAccount {
	var a auth.NewAccount
	a.FirstName, _ = in.trimmed("first_name", true)
	a.LastName, _ = in.trimmed("last_name", true)
	email, hasEmail := in.str("email", true)
	pw, hasPW := in.str("password", true)
	a.Email, a.Password = model.NormalizeEmail(email), pw
	if !in.errs.Has("first_name") {
		in.check("first_name", model.ValidateName(a.FirstName))
	}
	if !in.errs.Has("last_name") {
		in.check("last_name", model.ValidateName(a.LastName))
	}
	if hasEmail {
		in.check("email", model.ValidateEmail(a.Email))
	}
	if hasPW {
		in.errs.AddAll("password", model.ValidatePassword(pw, model.PasswordOwner{Email: a.Email, FirstName: a.FirstName, LastName: a.LastName}))
	}
	return a
}

func emailTaken() *apiError {
	e := fieldError("email", model.MsgEmailTaken)
	e.status = fiber.StatusConflict
	return e
}

// login exchanges an email and password for a token pair. Every failure
// looks the same and costs about the same, so it reveals no accounts.
func (s *Server) login(c *fiber.Ctx) error {
	in, err := parseInput(c)
	if err != nil {
		return err
	}
	email, hasEmail := in.str("email", true)
	pw, _ := in.str("password", true)
	email = model.NormalizeEmail(email)
	if hasEmail {
		in.check("email", model.ValidateEmail(email))
	}
	if err := in.err(); err != nil {
		return err
	}
	if err := s.allow(c, s.limiters.Login, clientIP(c)+"|"+email); err != nil {
		return err
	}
	// Checked before the password, so a blocked account answers the same
	// whether or not the guess is right, and costs no hash.
	if blocked, retry, err := s.limiters.AccountBackoff.Blocked(c.UserContext(), email); err != nil {
		return fmt.Errorf("login back-off: %w", err)
	} else if blocked {
		return tooManyRequests(retry)
	}
	ctx := c.UserContext()
	u, err := s.db.Read().UserByEmail(ctx, email)
	if errors.Is(err, db.ErrNotFound) {
		// The dummy hash takes a slot like a real one, so unknown emails
		// wait and cost the same.
		if _, err := s.hasher.Verify(ctx, pw, s.dummyHash); errors.Is(err, password.ErrBusy) {
			return err
		}
		return s.failedLogin(c, email, "")
	}
	if err != nil {
		return err
	}
	ok, err := s.hasher.Verify(ctx, pw, u.PasswordHash)
	if errors.Is(err, password.ErrBusy) {
		return err
	}
	if err != nil {
		return fmt.Errorf("verify password of user %s: %w", u.ID, err)
	}
	if !ok || !u.IsActive {
		return s.failedLogin(c, email, u.ID)
	}
	var pair model.TokenPair
	err = s.db.Write(ctx, func(q db.Tx) error {
		// The password was checked outside the transaction (hashing is
		// slow); the row, read again and locked, must still be the one it
		// was checked against, or a deactivation or password change that
		// landed meanwhile would be undone by the tokens issued here.
		cur, err := q.UserByID(ctx, u.ID)
		if err != nil {
			return err
		}
		if !cur.IsActive || cur.PasswordHash != u.PasswordHash || cur.TokenVersion != u.TokenVersion {
			return errLoginRaced
		}
		if err := q.InsertAudit(ctx, s.auditEvent(c, u.ID, model.ActionLogin, model.EntityUser, u.ID)); err != nil {
			return err
		}
		pair, err = s.tokens.Pair(ctx, q, cur, "")
		return err
	})
	if errors.Is(err, errLoginRaced) {
		return s.failedLogin(c, email, u.ID)
	}
	if err != nil {
		return err
	}
	s.clearBackoff(c, email)
	return c.JSON(model.AuthResponse{AccessToken: pair.AccessToken, RefreshToken: pair.RefreshToken, User: u.User, Message: msgLogin})
}

// errLoginRaced means the account changed between the password check and
// the issue of tokens; the login fails as a wrong password does.
var errLoginRaced = errors.New("account changed during login")

// failedLogin counts the failure against email, audits it (naming the
// account when there is one) and answers 401.
func (s *Server) failedLogin(c *fiber.Ctx, email, userID string) error {
	if err := s.limiters.AccountBackoff.Fail(c.UserContext(), email); err != nil {
		return fmt.Errorf("login back-off: %w", err)
	}
	err := s.db.Write(c.UserContext(), func(q db.Tx) error {
		return q.InsertAudit(c.UserContext(), s.auditEvent(c, "", model.ActionLoginFailed, model.EntityUser, userID))
	})
	if err != nil {
		return err
	}
	return errBadLogin
}

// refreshGrace is how long after its rotation a refresh token may be
// presented once more by the client that rotated it (see refreshToken).
const refreshGrace = 10 * time.Second

// refreshToken rotates a refresh token. A token that was already rotated is
// evidence of theft: its whole family is revoked, and every access token of
// the user invalidated.
//
// With one exception, the grace window: a rotated token presented again
// less than refreshGrace after its rotation, from the same client
// fingerprint (address and User-Agent, see auth.ClientFingerprint), while the
// token that rotation issued (its child) is still unused and unrevoked, and
// only once per token, is answered with a new pair instead: a fresh access
// token and a new refresh token in the same family, a sibling of the child.
// The child itself cannot be sent again (only its hash is stored) and is not
// revoked, because its holder is usually the owner's other window or the
// owner's own lost answer; both siblings then live on and rotate on their
// own, and reuse of either still revokes the family. This covers two
// processes sharing one stored sign-in that refresh at once, and a client
// whose answer to a refresh was lost. It is audited (ActionTokenGrace).
//
// What it gives a thief: someone who stole the token before its rotation
// and replays it within 10 s, from the owner's address with the owner's
// User-Agent, gets a live sibling without the family being revoked, where
// before the replay would have been detected. Such a thief could equally
// have presented the token first. Outside those conditions a replay is
// reuse, as before.
func (s *Server) refreshToken(c *fiber.Ctx) error {
	in, err := parseInput(c)
	if err != nil {
		return err
	}
	token, _ := in.str("refresh_token", true)
	if err := in.err(); err != nil {
		return err
	}
	if err := s.allow(c, s.limiters.Refresh, clientIP(c)); err != nil {
		return err
	}
	ctx := c.UserContext()
	now := s.now()
	fingerprint := auth.ClientFingerprint(clientIP(c), c.Get(fiber.HeaderUserAgent))
	var pair model.TokenPair
	var reused bool
	err = s.db.Write(ctx, func(q db.Tx) error {
		reused = false // an engine may run fn again
		t, err := q.RefreshTokenByHash(ctx, auth.HashRefreshToken(token))
		if err != nil {
			return err
		}
		if t.RevokedAt != nil || !now.Before(t.ExpiresAt) {
			return errBadRefresh
		}
		if t.UsedAt != nil {
			graced, err := graceApplies(ctx, q, t, fingerprint, now)
			if err != nil {
				return err
			}
			if graced {
				pair, err = s.refreshWithinGrace(c, q, t, now)
				return err
			}
			reused = true
			if err := q.RevokeRefreshFamily(ctx, t.FamilyID, now); err != nil {
				return err
			}
			// Whoever holds the stolen token may also hold an access token
			// minted from the family. Access tokens carry no family, so all
			// of the user's are invalidated: the user's other sign-ins
			// refresh theirs silently, the revoked family cannot.
			if err := q.InvalidateAccessTokens(ctx, t.UserID); err != nil {
				return err
			}
			return q.InsertAudit(ctx, s.auditEvent(c, t.UserID, model.ActionTokenReuse, model.EntityUser, t.UserID))
		}
		u, err := q.UserByID(ctx, t.UserID)
		if err != nil {
			return err
		}
		if !u.IsActive {
			return errBadRefresh
		}
		var child string
		pair, child, err = s.tokens.Issue(ctx, q, u, t.FamilyID)
		if err != nil {
			return err
		}
		return q.MarkRefreshTokenUsed(ctx, t.ID, now, fingerprint, child)
	})
	switch {
	case reused:
		return errBadRefresh
	case errors.Is(err, db.ErrNotFound), errors.Is(err, db.ErrConflict):
		return errBadRefresh
	case err != nil:
		return err
	}
	return c.JSON(pair)
}

// graceApplies reports whether the rotated token t, presented again now by
// a client with fingerprint, falls in the grace window (see refreshToken).
func graceApplies(ctx context.Context, q db.Tx, t db.RefreshToken, fingerprint []byte, now time.Time) (bool, error) {
	if t.UsedAt == nil || t.GraceUsedAt != nil || t.RotatedBy == nil || t.ChildID == "" {
		return false, nil
	}
	// A clock that went back is no reason to be lenient.
	if age := now.Sub(*t.UsedAt); age < 0 || age >= refreshGrace {
		return false, nil
	}
	if subtle.ConstantTimeCompare(t.RotatedBy, fingerprint) != 1 {
		return false, nil
	}
	// Once the child was used the sign-in has moved on: a replay of its
	// parent is no longer a race or a lost answer.
	child, err := q.RefreshTokenByID(ctx, t.ChildID)
	if errors.Is(err, db.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return child.UsedAt == nil && child.RevokedAt == nil && now.Before(child.ExpiresAt), nil
}

// refreshWithinGrace answers a replay in the grace window: it spends the
// token's one grace, mints a sibling pair in its family and audits it.
func (s *Server) refreshWithinGrace(c *fiber.Ctx, q db.Tx, t db.RefreshToken, now time.Time) (model.TokenPair, error) {
	ctx := c.UserContext()
	u, err := q.UserByID(ctx, t.UserID)
	if err != nil {
		return model.TokenPair{}, err
	}
	if !u.IsActive {
		return model.TokenPair{}, errBadRefresh
	}
	if err := q.UseRefreshGrace(ctx, t.ID, now); err != nil {
		return model.TokenPair{}, err
	}
	pair, err := s.tokens.Pair(ctx, q, u, t.FamilyID)
	if err != nil {
		return model.TokenPair{}, err
	}
	return pair, q.InsertAudit(ctx, s.auditEvent(c, t.UserID, model.ActionTokenGrace, model.EntityUser, t.UserID))
}

// logout revokes the refresh token and every token rotated from the same
// sign-in. Unknown tokens are accepted silently: there is nothing to revoke.
func (s *Server) logout(c *fiber.Ctx) error {
	in, err := parseInput(c)
	if err != nil {
		return err
	}
	token, _ := in.str("refresh_token", true)
	if err := in.err(); err != nil {
		return err
	}
	ctx := c.UserContext()
	err = s.db.Write(ctx, func(q db.Tx) error {
		t, err := q.RefreshTokenByHash(ctx, auth.HashRefreshToken(token))
		if err != nil {
			return err
		}
		if t.RevokedAt != nil {
			return nil
		}
		if err := q.RevokeRefreshFamily(ctx, t.FamilyID, s.now()); err != nil {
			return err
		}
		return q.InsertAudit(ctx, s.auditEvent(c, t.UserID, model.ActionLogout, model.EntityUser, t.UserID))
	})
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// forgotPassword emails a one-time reset code. The answer is the same
// whether or not the account exists.
func (s *Server) forgotPassword(c *fiber.Ctx) error {
	in, err := parseInput(c)
	if err != nil {
		return err
	}
	email, ok := in.str("email", true)
	email = model.NormalizeEmail(email)
	if ok {
		in.check("email", model.ValidateEmail(email))
	}
	if err := in.err(); err != nil {
		return err
	}
	if err := s.allow(c, s.limiters.ForgotIP, clientIP(c)); err != nil {
		return err
	}
	if err := s.allow(c, s.limiters.ForgotEmail, email); err != nil {
		return err
	}
	// Whether the account exists is decided after the response, by the
	// reset-code worker (auth.ResetCodes): the answer and its timing are
	// the same for every address. The request is stored before the answer,
	// so that a crash after it loses nothing.
	if err := s.resetCodes.Request(c.UserContext(), email, clientIP(c), requestID(c), s.now()); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"message": msgResetSent})
}

// resetPassword sets a new password with an emailed code. Success signs the
// account out everywhere.
func (s *Server) resetPassword(c *fiber.Ctx) error {
	in, err := parseInput(c)
	if err != nil {
		return err
	}
	email, hasEmail := in.str("email", true)
	code, hasCode := in.str("otp_code", true)
	pw, hasPW := in.str("password", true)
	email = model.NormalizeEmail(email)
	if hasEmail {
		in.check("email", model.ValidateEmail(email))
	}
	if hasPW {
		// The owner-similarity rule needs the account; it is checked below.
		in.errs.AddAll("password", model.ValidatePassword(pw, model.PasswordOwner{Email: email}))
	}
	if err := in.err(); err != nil {
		return err
	}
	if hasCode && model.ValidateOTPCode(code) != "" {
		return errBadCode
	}
	if err := s.allow(c, s.limiters.Reset, email); err != nil {
		return err
	}
	ctx := c.UserContext()
	u, err := s.db.Read().UserByEmail(ctx, email)
	if errors.Is(err, db.ErrNotFound) || (err == nil && !u.IsActive) {
		// Cost what a real attempt costs, so timing reveals no accounts.
		if _, err := s.hasher.Hash(ctx, pw); errors.Is(err, password.ErrBusy) {
			return err
		}
		return errBadCode
	}
	if err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	now := s.now()
	var wrong bool
	err = s.db.Write(ctx, func(q db.Tx) error {
		wrong = false // an engine may run fn again
		otp, err := q.ActiveOTP(ctx, u.ID, now, maxOTPAttempts)
		if err != nil {
			return err
		}
		if !s.otp.Matches(otp.Hash, u.ID, code) {
			wrong = true
			return q.CountOTPAttempt(ctx, otp.ID)
		}
		// Only a caller holding the right code learns that the password
		// resembles the account's names; the code stays usable.
		if msgs := model.ValidatePassword(pw, model.PasswordOwner{Email: u.Email, FirstName: u.FirstName, LastName: u.LastName}); len(msgs) > 0 {
			var fe model.FieldErrors
			fe.AddAll("password", msgs)
			return &apiError{status: fiber.StatusBadRequest, fields: &fe}
		}
		if err := q.UseOTP(ctx, otp.ID, now); err != nil {
			return err
		}
		if err := q.SetPassword(ctx, u.ID, hash, now); err != nil {
			return err
		}
		if err := q.RevokeUserRefreshTokens(ctx, u.ID, now); err != nil {
			return err
		}
		if err := q.InsertAudit(ctx, s.auditEvent(c, u.ID, model.ActionPasswordReset, model.EntityUser, u.ID)); err != nil {
			return err
		}
		return s.revokeAPITokensOf(c, q, u.ID, u.ID, now)
	})
	switch {
	case wrong, errors.Is(err, db.ErrNotFound), errors.Is(err, db.ErrConflict):
		return errBadCode
	case err != nil:
		return err
	}
	// The owner proved control of the mailbox: guesses by others no longer
	// stand between them and their account.
	s.clearBackoff(c, email)
	return c.JSON(fiber.Map{"message": msgPasswordChanged})
}

// changePassword replaces the caller's password, signs out every other
// session and returns a fresh token pair for this one.
func (s *Server) changePassword(c *fiber.Ctx) error {
	in, err := parseInput(c)
	if err != nil {
		return err
	}
	me := currentUser(c)
	current, hasCurrent := in.str("current_password", true)
	next, hasNext := in.str("new_password", true)
	if hasNext {
		in.errs.AddAll("new_password", model.ValidatePassword(next, model.PasswordOwner{Email: me.Email, FirstName: me.FirstName, LastName: me.LastName}))
	}
	if err := in.err(); err != nil {
		return err
	}
	if err := s.allow(c, s.limiters.ChangePassword, me.ID); err != nil {
		return err
	}
	var checkedHash string
	if hasCurrent {
		// The authenticated row carries no hash (auth.UserCache); read it now.
		stored, err := s.db.Read().UserByID(c.UserContext(), me.ID)
		if err != nil {
			return fmt.Errorf("read user %s: %w", me.ID, err)
		}
		checkedHash = stored.PasswordHash
		ok, err := s.hasher.Verify(c.UserContext(), current, stored.PasswordHash)
		if errors.Is(err, password.ErrBusy) {
			return err
		}
		if err != nil {
			return fmt.Errorf("verify password of user %s: %w", me.ID, err)
		}
		if !ok {
			return fieldError("current_password", msgWrongPassword)
		}
	}
	hash, err := s.hasher.Hash(c.UserContext(), next)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	now := s.now()
	var pair model.TokenPair
	err = s.db.Write(ctx, func(q db.Tx) error {
		if hasCurrent {
			// The current password was checked outside the transaction
			// (hashing is slow) against the hash read then: if another
			// change or a reset replaced it meanwhile, that proof is stale.
			u, err := q.UserByID(ctx, me.ID)
			if err != nil {
				return err
			}
			if u.PasswordHash != checkedHash {
				return fieldError("current_password", msgWrongPassword)
			}
		}
		if err := q.SetPassword(ctx, me.ID, hash, now); err != nil {
			return err
		}
		if err := q.RevokeUserRefreshTokens(ctx, me.ID, now); err != nil {
			return err
		}
		if err := q.InsertAudit(ctx, s.auditEvent(c, me.ID, model.ActionPasswordChange, model.EntityUser, me.ID)); err != nil {
			return err
		}
		if err := s.revokeAPITokensOf(c, q, me.ID, me.ID, now); err != nil {
			return err
		}
		u, err := q.UserByID(ctx, me.ID)
		if err != nil {
			return err
		}
		pair, err = s.tokens.Pair(ctx, q, u, "")
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"message": msgPasswordChanged, "access_token": pair.AccessToken, "refresh_token": pair.RefreshToken})
}
