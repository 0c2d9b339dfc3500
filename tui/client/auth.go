package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/anavara/anavara/model"
)

// SignupRequest is a new patient account.
type SignupRequest struct {
	FirstName string
	LastName  string
	Email     string
	Password  string
}

// messageBody is the {"message": ...} answer of several endpoints.
type messageBody struct {
	Message string `json:"message"`
}

// Signup creates a patient account and signs it in, storing its tokens.
func (c *Client) Signup(ctx context.Context, r SignupRequest) (model.AuthResponse, error) {
	body := map[string]string{
		"first_name": r.FirstName, "last_name": r.LastName, "email": r.Email, "password": r.Password,
	}
	var res model.AuthResponse
	if err := c.do(ctx, http.MethodPost, "/api/auth/signup", nil, body, &res); err != nil {
		return model.AuthResponse{}, fmt.Errorf("sign up %s: %w", r.Email, err)
	}
	c.adopt(ctx, model.TokenPair{AccessToken: res.AccessToken, RefreshToken: res.RefreshToken})
	return res, nil
}

// Login signs in with an email and password, storing the tokens.
func (c *Client) Login(ctx context.Context, email, password string) (model.AuthResponse, error) {
	var res model.AuthResponse
	body := map[string]string{"email": email, "password": password}
	if err := c.do(ctx, http.MethodPost, "/api/auth/login", nil, body, &res); err != nil {
		return model.AuthResponse{}, fmt.Errorf("log in %s: %w", email, err)
	}
	c.adopt(ctx, model.TokenPair{AccessToken: res.AccessToken, RefreshToken: res.RefreshToken})
	return res, nil
}

// Refresh exchanges the stored refresh token for a new pair, stores it and
// returns it. Concurrent refreshes share one request. When the server
// rejects the refresh token, the stored tokens are cleared.
func (c *Client) Refresh(ctx context.Context) (model.TokenPair, error) {
	if err := c.refresh(ctx, "", true); err != nil {
		return model.TokenPair{}, err
	}
	return c.Tokens(), nil
}

// Logout revokes the stored refresh token (and every token rotated from the
// same sign-in) and clears the stored tokens, calling OnTokens with an empty
// pair. The tokens are cleared even when the server cannot be told.
func (c *Client) Logout(ctx context.Context) error {
	token := c.Tokens().RefreshToken
	var err error
	if token != "" {
		err = c.do(ctx, http.MethodPost, "/api/auth/logout", nil, map[string]string{"refresh_token": token}, nil)
	}
	c.adopt(ctx, model.TokenPair{})
	if err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	return nil
}

// ForgotPassword asks the server to email a reset code to email and returns
// its message, which is the same whether or not the account exists.
func (c *Client) ForgotPassword(ctx context.Context, email string) (message string, err error) {
	var res messageBody
	if err := c.do(ctx, http.MethodPost, "/api/auth/forgot-password", nil, map[string]string{"email": email}, &res); err != nil {
		return "", fmt.Errorf("request password reset for %s: %w", email, err)
	}
	return res.Message, nil
}

// ResetPassword sets a new password with the emailed code and returns the
// server's message. Success signs the account out everywhere; log in again.
func (c *Client) ResetPassword(ctx context.Context, email, code, newPassword string) (message string, err error) {
	var res messageBody
	body := map[string]string{"email": email, "otp_code": code, "password": newPassword}
	if err := c.do(ctx, http.MethodPost, "/api/auth/reset-password", nil, body, &res); err != nil {
		return "", fmt.Errorf("reset password for %s: %w", email, err)
	}
	return res.Message, nil
}

// ChangePassword replaces the signed-in user's password. The server signs
// out every other session and returns a fresh pair, which is stored.
func (c *Client) ChangePassword(ctx context.Context, current, next string) error {
	var res struct {
		Message      string `json:"message"`
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	body := map[string]string{"current_password": current, "new_password": next}
	if err := c.doAuth(ctx, http.MethodPost, "/api/auth/change-password", nil, body, &res); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if res.AccessToken == "" || res.RefreshToken == "" {
		return errors.New("change password: the server answered without a token pair")
	}
	c.adopt(ctx, model.TokenPair{AccessToken: res.AccessToken, RefreshToken: res.RefreshToken})
	return nil
}
