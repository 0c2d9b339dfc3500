package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/anavara/anavara/model"
)

// UserPatch changes an account; nil fields are not sent. UpdateMe sends
// only the names; UpdateUser (staff) sends all four.
type UserPatch struct {
	FirstName *string
	LastName  *string
	IsStaff   *bool
	IsActive  *bool
	// IfVersion, when not 0, is the account version the change applies to
	// (If-Match); a change someone else made meanwhile answers 412
	// (IsChanged).
	IfVersion int64
}

// UserQuery filters ListUsers; zero fields are omitted.
type UserQuery struct {
	// Page is 1-based; PageSize is 1–100 (server default 20).
	Page     int
	PageSize int
	// ByCursor asks for a page by cursor (keyset pagination): a walk
	// that follows NextCursor never shows an item twice or skips one while
	// others are added. Cursor is a NextCursor or PreviousCursor of a page
	// by cursor of the same query (it implies ByCursor); Page stays 0.
	ByCursor bool
	Cursor   string
	// Search matches email and names (staff only; others see just themselves).
	Search string
	// IsStaff and IsActive filter on the flags when set.
	IsStaff  *bool
	IsActive *bool
}

// CreateUserRequest is an account created by staff.
type CreateUserRequest struct {
	FirstName string
	LastName  string
	Email     string
	Password  string
	IsStaff   bool
}

// userPatchBody is the wire form of UserPatch.
type userPatchBody struct {
	FirstName *string `json:"first_name,omitempty"`
	LastName  *string `json:"last_name,omitempty"`
	IsStaff   *bool   `json:"is_staff,omitempty"`
	IsActive  *bool   `json:"is_active,omitempty"`
}

// Me returns the signed-in user's account.
func (c *Client) Me(ctx context.Context) (model.User, error) {
	var u model.User
	if err := c.doAuth(ctx, http.MethodGet, "/api/users/me", nil, nil, &u); err != nil {
		return model.User{}, fmt.Errorf("get my account: %w", err)
	}
	return u, nil
}

// UpdateMe changes the signed-in user's names; the flags in p are ignored,
// since nobody may change their own.
func (c *Client) UpdateMe(ctx context.Context, p UserPatch) (model.User, error) {
	var u model.User
	body := userPatchBody{FirstName: p.FirstName, LastName: p.LastName}
	if err := c.doAuthIf(ctx, http.MethodPatch, "/api/users/me", p.IfVersion, body, &u); err != nil {
		return model.User{}, fmt.Errorf("update my account: %w", err)
	}
	return u, nil
}

// ListUsers returns one page of accounts: every account for staff, only the
// caller's own for anyone else.
func (c *Client) ListUsers(ctx context.Context, q UserQuery) (model.Page[model.User], error) {
	v := url.Values{}
	setPage(v, q.Page, q.PageSize, q.ByCursor, q.Cursor)
	setString(v, "search", q.Search)
	setBool(v, "is_staff", q.IsStaff)
	setBool(v, "is_active", q.IsActive)
	var page model.Page[model.User]
	if err := c.doAuth(ctx, http.MethodGet, "/api/users", v, nil, &page); err != nil {
		return model.Page[model.User]{}, fmt.Errorf("list users: %w", err)
	}
	return page, nil
}

// CreateUser creates an account (staff only; others get 403).
func (c *Client) CreateUser(ctx context.Context, r CreateUserRequest) (model.User, error) {
	body := struct {
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		Email     string `json:"email"`
		Password  string `json:"password"`
		IsStaff   bool   `json:"is_staff"`
	}{r.FirstName, r.LastName, r.Email, r.Password, r.IsStaff}
	var u model.User
	if err := c.doAuth(ctx, http.MethodPost, "/api/users", nil, body, &u); err != nil {
		return model.User{}, fmt.Errorf("create user %s: %w", r.Email, err)
	}
	return u, nil
}

// GetUser returns one account: any for staff, only their own for others
// (anything else is 404).
func (c *Client) GetUser(ctx context.Context, id string) (model.User, error) {
	var u model.User
	if err := c.doAuth(ctx, http.MethodGet, "/api/users/"+url.PathEscape(id), nil, nil, &u); err != nil {
		return model.User{}, fmt.Errorf("get user %s: %w", id, err)
	}
	return u, nil
}

// UpdateUser changes an account's names and flags (staff only). Staff
// cannot demote or deactivate themselves (400).
func (c *Client) UpdateUser(ctx context.Context, id string, p UserPatch) (model.User, error) {
	var u model.User
	body := userPatchBody{FirstName: p.FirstName, LastName: p.LastName, IsStaff: p.IsStaff, IsActive: p.IsActive}
	if err := c.doAuthIf(ctx, http.MethodPatch, "/api/users/"+url.PathEscape(id), p.IfVersion, body, &u); err != nil {
		return model.User{}, fmt.Errorf("update user %s: %w", id, err)
	}
	return u, nil
}
