package server

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"golang.org/x/crypto/ssh"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// Messages of the SSH-key endpoints.
const (
	msgInvalidKey = "Enter one public key as an authorized_keys line, e.g. \"ssh-ed25519 AAAA... me@laptop\"."
	msgKeyTaken   = "This key is already linked to an account."
	msgSSHLogin   = "Login successful"
	// HeaderServiceToken carries the service credential of trusted front ends.
	HeaderServiceToken = "X-Service-Token"
)

// keyOwner is the account whose keys a /ssh-keys or /tokens route
// manages: the caller for /me, else the user in the path, visible to
// staff (and to the account itself) only: 404 for anyone else.
func (s *Server) keyOwner(c *fiber.Ctx) (string, error) {
	me := currentUser(c)
	id := c.Params("id")
	if id == "" {
		return me.ID, nil
	}
	if !model.ValidUUID(id) || (!me.IsStaff && id != me.ID) {
		return "", errNotFound
	}
	if _, err := s.db.Read().UserByID(c.UserContext(), id); err != nil {
		return "", err
	}
	return id, nil
}

// listSSHKeys lists an account's public keys.
func (s *Server) listSSHKeys(c *fiber.Ctx) error {
	owner, err := s.keyOwner(c)
	if err != nil {
		return err
	}
	keys, err := s.db.Read().SSHKeysOf(c.UserContext(), owner)
	if err != nil {
		return err
	}
	return c.JSON(keys)
}

// addSSHKey links a public key to the caller's account.
func (s *Server) addSSHKey(c *fiber.Ctx) error {
	in, err := parseInput(c)
	if err != nil {
		return err
	}
	name, _ := in.trimmed("name", false)
	line, _ := in.str("public_key", true)
	if utf8.RuneCountInString(name) > model.MaxNameLength {
		in.errs.Add("name", "Ensure this field has no more than 150 characters.")
	}
	var pub ssh.PublicKey
	var comment string
	if !in.errs.Has("public_key") {
		pub, comment, err = parseAuthorizedKey(line)
		if err != nil {
			in.errs.Add("public_key", msgInvalidKey)
		}
	}
	if err := in.err(); err != nil {
		return err
	}
	if name == "" {
		name = comment
	}
	if name == "" {
		name = pub.Type()
	}
	me := currentUser(c)
	k := db.SSHKeyRow{
		SSHKey: model.SSHKey{ID: uuid.NewString(), Name: name, Type: pub.Type(), Fingerprint: ssh.FingerprintSHA256(pub), Created: s.now()},
		UserID: me.ID, PublicKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))),
	}
	ctx := c.UserContext()
	err = s.db.Write(ctx, func(q db.Tx) error {
		if err := q.CreateSSHKey(ctx, k); err != nil {
			return err
		}
		return q.InsertAudit(ctx, s.auditEvent(c, me.ID, model.ActionSSHKeyAdd, model.EntitySSHKey, k.ID, me.ID))
	})
	if errors.Is(err, db.ErrConflict) {
		e := fieldError("public_key", msgKeyTaken)
		e.status = fiber.StatusConflict
		return e
	}
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(k.SSHKey)
}

// parseAuthorizedKey accepts exactly one authorized_keys line, options
// included, and returns the key and its comment.
func parseAuthorizedKey(line string) (ssh.PublicKey, string, error) {
	line = strings.TrimSpace(line)
	if line == "" || strings.ContainsAny(line, "\r\n") {
		return nil, "", errors.New("want exactly one line")
	}
	pub, comment, _, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, "", err
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return nil, "", errors.New("more than one key")
	}
	return pub, strings.TrimSpace(comment), nil
}

// removeSSHKey unlinks a key from an account.
func (s *Server) removeSSHKey(c *fiber.Ctx) error {
	owner, err := s.keyOwner(c)
	if err != nil {
		return err
	}
	keyID := c.Params("keyID")
	if !model.ValidUUID(keyID) {
		return errNotFound
	}
	ctx := c.UserContext()
	err = s.db.Write(ctx, func(q db.Tx) error {
		if err := q.DeleteSSHKey(ctx, owner, keyID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, s.auditEvent(c, currentUser(c).ID, model.ActionSSHKeyRemove, model.EntitySSHKey, keyID, owner))
	})
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// requireService answers 401 unless the request carries the service
// credential, compared in constant time.
func (s *Server) requireService(c *fiber.Ctx) error {
	given := c.Get(HeaderServiceToken)
	if !auth.ServiceTokenValid(s.cfg.ServiceTokens, given) {
		return errBadServiceToken
	}
	return c.Next()
}

// sshKeyCheck tells a trusted SSH front end whether a key belongs to an
// active account, so it can refuse unknown keys during the handshake. It
// issues nothing: the client has not yet proved it holds the key.
func (s *Server) sshKeyCheck(c *fiber.Ctx) error {
	in, err := parseInput(c)
	if err != nil {
		return err
	}
	fp, _ := in.trimmed("fingerprint", true)
	if err := in.err(); err != nil {
		return err
	}
	ctx := c.UserContext()
	k, err := s.db.Read().SSHKeyByFingerprint(ctx, fp)
	if err != nil {
		return err
	}
	u, err := s.db.Read().UserByID(ctx, k.UserID)
	if err != nil {
		return err
	}
	if !u.IsActive {
		return errNotFound
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// sshLogin lets a trusted SSH front end, which has verified possession of a
// key, exchange the key's fingerprint for its owner's token pair.
func (s *Server) sshLogin(c *fiber.Ctx) error {
	in, err := parseInput(c)
	if err != nil {
		return err
	}
	fp, _ := in.trimmed("fingerprint", true)
	if err := in.err(); err != nil {
		return err
	}
	ctx := c.UserContext()
	var resp model.AuthResponse
	err = s.db.Write(ctx, func(q db.Tx) error {
		k, u, err := s.verifiedKeyOwner(ctx, q, fp)
		if err != nil {
			return err
		}
		if err := q.InsertAudit(ctx, s.auditEvent(c, u.ID, model.ActionSSHLogin, model.EntitySSHKey, k.ID)); err != nil {
			return err
		}
		pair, err := s.tokens.Pair(ctx, q, u, "")
		resp = model.AuthResponse{AccessToken: pair.AccessToken, RefreshToken: pair.RefreshToken, User: u.User, Message: msgSSHLogin}
		return err
	})
	if errors.Is(err, db.ErrNotFound) {
		return errNoKeyOwner
	}
	if err != nil {
		return err
	}
	return c.JSON(resp)
}

// errNoKeyOwner answers a front end whose verified key no account has.
var errNoKeyOwner = newError(fiber.StatusNotFound, "No account has this key.")

// verifiedKeyOwner is the key with fingerprint fp, whose possession a
// front end verified, and its owner, who must be active (401 otherwise),
// recording the key's use, in q: what every sign-in by key starts with
// (ssh-login, ssh-token). A key no account has is db.ErrNotFound.
func (s *Server) verifiedKeyOwner(ctx context.Context, q db.Tx, fp string) (db.SSHKeyRow, db.UserRow, error) {
	k, err := q.SSHKeyByFingerprint(ctx, fp)
	if err != nil {
		return k, db.UserRow{}, err
	}
	u, err := q.UserByID(ctx, k.UserID)
	if err != nil {
		return k, u, err
	}
	if !u.IsActive {
		return k, u, newError(fiber.StatusUnauthorized, "This account is deactivated.")
	}
	return k, u, q.TouchSSHKey(ctx, k.ID, s.now())
}
