package server

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// getMe returns the caller's account.
func (s *Server) getMe(c *fiber.Ctx) error {
	u := currentUser(c).User
	setETag(c, u.Version)
	return c.JSON(u)
}

// patchMe lets anyone change their own names.
func (s *Server) patchMe(c *fiber.Ctx) error {
	return s.updateUser(c, func(q db.Tx, match ifMatch) (model.User, error) {
		// The stored row, locked, not the cached one the request was
		// authenticated with: a field this request does not send keeps
		// whatever another request just wrote, and If-Match is compared
		// with the version it has now.
		row, err := q.UserByID(c.UserContext(), currentUser(c).ID)
		if err != nil {
			return model.User{}, err
		}
		if err := match.check(row.Version, errUserChanged); err != nil {
			return model.User{}, err
		}
		in, err := parseInput(c)
		if err != nil {
			return model.User{}, err
		}
		u := row.User
		s.readNames(in, &u)
		return u, in.err()
	})
}

// readNames applies first_name and last_name from in, when sent.
func (s *Server) readNames(in *input, u *model.User) {
	if v, ok := in.trimmed("first_name", false); ok {
		in.check("first_name", model.ValidateName(v))
		u.FirstName = v
	}
	if v, ok := in.trimmed("last_name", false); ok {
		in.check("last_name", model.ValidateName(v))
		u.LastName = v
	}
}

// updateUser reads and changes a user with change, then stores the result
// with an audit event, all in one transaction, and answers with it. change
// reads the user through q, which locks the row: read outside, two
// concurrent PATCHes of different fields would lose one of the changes.
// change checks the request's If-Match, match, against the row it read
// before changing anything, and returns the user at the version it read.
func (s *Server) updateUser(c *fiber.Ctx, change func(q db.Tx, match ifMatch) (model.User, error)) error {
	match, err := parseIfMatch(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	var u model.User
	err = s.db.Write(ctx, func(q db.Tx) error {
		var err error
		if u, err = change(q, match); err != nil {
			return err
		}
		u.Updated = s.now()
		if err := q.UpdateUser(ctx, u); err != nil {
			return err
		}
		u.Version++ // what UpdateUser made it; InvalidateAccessTokens keeps it
		if !u.IsActive {
			// Re-activation must not bring any old token back to life.
			if err := q.RevokeUserRefreshTokens(ctx, u.ID, u.Updated); err != nil {
				return err
			}
			if err := q.InvalidateAccessTokens(ctx, u.ID); err != nil {
				return err
			}
			if err := s.revokeAPITokensOf(c, q, currentUser(c).ID, u.ID, u.Updated); err != nil {
				return err
			}
		}
		return q.InsertAudit(ctx, s.auditEvent(c, currentUser(c).ID, model.ActionUserUpdate, model.EntityUser, u.ID, u.ID))
	})
	if err != nil {
		return err
	}
	setETag(c, u.Version)
	return c.JSON(u)
}

// listUsers lists every account to staff and only the caller to others.
func (s *Server) listUsers(c *fiber.Ctx) error {
	me := currentUser(c)
	var errs model.FieldErrors
	p := parsePage(c, &errs)
	f := db.UserFilter{Search: queryText(c, "search", &errs)}
	f.IsStaff = queryBool(c, "is_staff", &errs)
	f.IsActive = queryBool(c, "is_active", &errs)
	if err := errs.Err(); err != nil {
		return err
	}
	if !me.IsStaff {
		f.OnlyID = me.ID
	}
	if err := s.openCursor(&p, "users", f.OnlyID, f.Search, boolText(f.IsStaff), boolText(f.IsActive)); err != nil {
		return err
	}
	f.Limit, f.Offset, f.Seek = p.limit(), p.offset(), p.seek
	users, count, err := s.db.Read().ListUsers(c.UserContext(), f)
	if err != nil {
		return err
	}
	users, more := trimPage(p, users)
	page, err := newPage(s, c, p, users, count, more, db.UserPosition)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// boolText is b as true or false, "" for none.
func boolText(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// queryBool reads an optional true/false query parameter.
func queryBool(c *fiber.Ctx, name string, errs *model.FieldErrors) *bool {
	v := c.Query(name)
	if v == "" {
		return nil
	}
	b, ok := parseBool(v)
	if !ok {
		errs.Add(name, model.MsgNotABoolean)
		return nil
	}
	return &b
}

// createUser lets staff create an account, staff or not.
func (s *Server) createUser(c *fiber.Ctx) error {
	in, err := parseInput(c)
	if err != nil {
		return err
	}
	a := readNewAccount(in)
	staff, _ := in.boolean("is_staff")
	if err := in.err(); err != nil {
		return err
	}
	a.IsStaff = staff
	u, err := auth.CreateAccount(c.UserContext(), s.db, s.hasher, a, auth.Actor{ID: currentUser(c).ID, IP: clientIP(c), Via: clientVia(c), TokenID: currentGrant(c).tokenID}, s.now)
	if errors.Is(err, db.ErrConflict) {
		return emailTaken()
	}
	if err != nil {
		return err
	}
	u.Version = 1 // as CreateUser stored it
	setETag(c, u.Version)
	return c.Status(fiber.StatusCreated).JSON(u.User)
}

// findUser loads the user named in the path through q, as the caller may
// see it: staff see everyone, others only themselves, and anything else is
// 404. Inside a write transaction q locks the row until it ends.
func (s *Server) findUser(c *fiber.Ctx, q db.Reader) (model.User, error) {
	me := currentUser(c)
	id := strings.ToLower(c.Params("id"))
	if !model.ValidUUID(id) {
		return model.User{}, errNotFound
	}
	if !me.IsStaff && id != me.ID {
		return model.User{}, errNotFound
	}
	u, err := q.UserByID(c.UserContext(), id)
	if err != nil {
		return model.User{}, err
	}
	return u.User, nil
}

// getUser returns one account.
func (s *Server) getUser(c *fiber.Ctx) error {
	u, err := s.findUser(c, s.db.Read())
	if err != nil {
		return err
	}
	setETag(c, u.Version)
	return c.JSON(u)
}

// patchUser lets staff change names and the staff and active flags. Staff
// cannot demote or deactivate themselves, so someone can always administer.
func (s *Server) patchUser(c *fiber.Ctx) error {
	return s.updateUser(c, func(q db.Tx, match ifMatch) (model.User, error) {
		u, err := s.findUser(c, q)
		if err != nil {
			return u, err
		}
		if err := match.check(u.Version, errUserChanged); err != nil {
			return u, err
		}
		in, err := parseInput(c)
		if err != nil {
			return u, err
		}
		me := currentUser(c)
		s.readNames(in, &u)
		if v, ok := in.boolean("is_staff"); ok {
			if u.ID == me.ID && !v {
				in.errs.Add("is_staff", model.MsgSelfDemote)
			}
			u.IsStaff = v
		}
		if v, ok := in.boolean("is_active"); ok {
			if u.ID == me.ID && !v {
				in.errs.Add("is_active", model.MsgSelfDeactivate)
			}
			u.IsActive = v
		}
		return u, in.err()
	})
}
