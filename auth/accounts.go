package auth

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/password"
)

// NewAccount is an account to create, its fields already validated
// against the model rules (names, email, password policy).
type NewAccount struct {
	Email, FirstName, LastName, Password string
	IsStaff                              bool
}

// Actor is who creates an account, as its audit event records them: ID is
// the acting account, empty for none (the command line), IP the client
// address ("cli" for the command line) and Via how the request arrived
// (model.ViaAPI, ViaSSH or ViaCLI); TokenID is the API token the request
// was authenticated with, empty for none.
type Actor struct {
	ID, IP, Via, TokenID string
}

// CreateAccount creates an active account for a, by actor, and audits it
// as user.create, in one transaction: a staff member's POST /api/users
// and `anavara createsuperuser` both go through it. The password is hashed
// with hasher first (password.ErrBusy when no slot frees in time); now is
// the clock, read for the row once hashed and for the event inside the
// transaction. A taken email is db.ErrConflict.
func CreateAccount(ctx context.Context, store db.Store, hasher *password.Hasher, a NewAccount, actor Actor, now func() time.Time) (db.UserRow, error) {
	return createAccount(ctx, store, hasher, a, now, func(u db.UserRow) model.AuditEvent {
		e := NewAuditEvent(now(), actor.IP, actor.ID, model.ActionUserCreate, model.EntityUser, u.ID)
		e.Via, e.SubjectIDs = actor.Via, []string{u.ID}
		if actor.TokenID != "" {
			e.TokenID = &actor.TokenID
		}
		return e
	}, nil)
}

// SignUp creates an active patient account for a (IsStaff is ignored:
// signing up never makes staff) from the client address and way in of
// from (its ID is ignored) and audits it as
// auth.signup by the new account itself, in one transaction, in which it
// then runs then (the sign-in's tokens are issued there), when not nil.
// Hashing, the clock and a taken email are as for CreateAccount.
func SignUp(ctx context.Context, store db.Store, hasher *password.Hasher, a NewAccount, from Actor, now func() time.Time, then func(q db.Tx, u db.UserRow) error) (db.UserRow, error) {
	a.IsStaff = false
	return createAccount(ctx, store, hasher, a, now, func(u db.UserRow) model.AuditEvent {
		e := NewAuditEvent(now(), from.IP, u.ID, model.ActionSignup, model.EntityUser, u.ID)
		e.Via, e.SubjectIDs = from.Via, []string{u.ID}
		return e
	}, then)
}

// createAccount hashes a's password, builds the row, and stores it with
// the audit event event describes, and what then writes, in one
// transaction.
func createAccount(ctx context.Context, store db.Store, hasher *password.Hasher, a NewAccount, now func() time.Time,
	event func(db.UserRow) model.AuditEvent, then func(q db.Tx, u db.UserRow) error) (db.UserRow, error) {
	hash, err := hasher.Hash(ctx, a.Password)
	if err != nil {
		return db.UserRow{}, err
	}
	at := now()
	u := db.UserRow{
		User: model.User{
			ID: uuid.NewString(), Email: a.Email, FirstName: a.FirstName, LastName: a.LastName,
			IsStaff: a.IsStaff, IsActive: true, Created: at, Updated: at,
		},
		PasswordHash: hash,
	}
	err = store.Write(ctx, func(q db.Tx) error {
		if err := q.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := q.InsertAudit(ctx, event(u)); err != nil {
			return err
		}
		if then != nil {
			return then(q, u)
		}
		return nil
	})
	if err != nil {
		return db.UserRow{}, err
	}
	return u, nil
}
