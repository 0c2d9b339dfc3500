package server_test

import (
	"net/http"
	"net/url"
	"testing"
)

// A NUL character or bytes that are not UTF-8 are refused at the boundary
// with a 400 naming the field, on every engine: PostgreSQL's text type can
// hold neither, so they used to reach it and fail there with a 500, while
// SQLite stored them.
func TestTextInputsRefuseNULAndInvalidUTF8(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("staff@example.org")
	patient := h.signup("pat@example.org")
	r := mrCreate(h, staff.Access, map[string]any{"user_id": patient.ID})
	const nul = "Ada\x00Lovelace"

	bodies := []struct {
		name, method, path, token string
		body                      any
		field                     string
	}{
		{"signup first_name", http.MethodPost, "/api/auth/signup", "",
			map[string]any{"first_name": nul, "last_name": "Ient", "email": "new@example.org", "password": testPassword}, "first_name"},
		{"signup email", http.MethodPost, "/api/auth/signup", "",
			map[string]any{"first_name": "Pat", "last_name": "Ient", "email": "n\x00ew@example.org", "password": testPassword}, "email"},
		{"create record patient_name", http.MethodPost, mrPath, staff.Access, mrBody(map[string]any{"user_id": patient.ID, "patient_name": nul}), "patient_name"},
		{"create record diagnosis", http.MethodPost, mrPath, staff.Access, mrBody(map[string]any{"user_id": patient.ID, "diagnosis": nul}), "diagnosis"},
		{"patch record doctor", http.MethodPatch, mrPath + "/" + r.ID, staff.Access, map[string]any{"doctor": nul}, "doctor"},
		{"patch me last_name", http.MethodPatch, "/api/users/me", patient.Access, map[string]any{"last_name": nul}, "last_name"},
		{"patch user first_name", http.MethodPatch, "/api/users/" + patient.ID, staff.Access, map[string]any{"first_name": nul}, "first_name"},
		{"ssh key name", http.MethodPost, "/api/users/me/ssh-keys", patient.Access,
			map[string]any{"name": nul, "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"}, "name"},
		{"login email", http.MethodPost, "/api/auth/login", "", map[string]any{"email": "p\x00at@example.org", "password": testPassword}, "email"},
		{"forgot-password email", http.MethodPost, "/api/auth/forgot-password", "", map[string]any{"email": "p\x00at@example.org"}, "email"},
		{"form record treatment not UTF-8", http.MethodPost, mrPath, patient.Access,
			url.Values{"patient_name": {"Pat Ient"}, "date_of_birth": {"1985-12-10"}, "treatment": {"caf\xe9"},
				"date_of_treatment": {"2026-03-20"}, "doctor": {"Dr. Who"}}, "treatment"},
	}
	for _, tc := range bodies {
		t.Run(tc.name, func(t *testing.T) {
			h := mrSub(h, t)
			h.send(request{method: tc.method, path: tc.path, body: tc.body, token: tc.token}).
				expectError(http.StatusBadRequest, "", tc.field)
		})
	}

	queries := []struct{ path, token, field string }{
		{mrPath + "?search=" + url.QueryEscape(nul), staff.Access, "search"},
		{mrPath + "?doctor=" + url.QueryEscape(nul), staff.Access, "doctor"},
		{mrPath + "?search=%FF", patient.Access, "search"},
		{"/api/users?search=" + url.QueryEscape(nul), staff.Access, "search"},
		{"/api/audit-events?action=" + url.QueryEscape(nul), staff.Access, "action"},
	}
	for _, tc := range queries {
		t.Run("GET "+tc.path, func(t *testing.T) {
			h := mrSub(h, t)
			h.get(tc.path, tc.token).expectError(http.StatusBadRequest, "", tc.field)
		})
	}
}
