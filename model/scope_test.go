package model_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/anavara/anavara/model"
)

// TestValidateScopes: known scopes, none twice, audit:read for staff
// alone, returned in AllScopes' order; and ScopesAllowed drops audit:read
// of an account that is not staff (any more).
func TestValidateScopes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scopes []string
		staff  bool
		want   []string
		msg    string
	}{
		{"one", []string{"records:read"}, false, []string{"records:read"}, ""},
		{"ordered", []string{"users:write", "records:read"}, false, []string{"records:read", "users:write"}, ""},
		{"audit for staff", []string{"audit:read", "records:read"}, true, []string{"records:read", "audit:read"}, ""},
		{"audit for a patient", []string{"audit:read"}, false, nil, model.MsgScopeStaffOnly},
		{"none", nil, true, nil, model.MsgScopesEmpty},
		{"unknown", []string{"records:read", "records:delete"}, true, nil, model.MsgUnknownScope},
		{"case matters", []string{"Records:Read"}, true, nil, model.MsgUnknownScope},
		{"twice", []string{"records:read", "records:read"}, true, nil, model.MsgScopeDuplicate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, msg := model.ValidateScopes(tc.scopes, tc.staff)
			if msg != tc.msg || !slices.Equal(got, tc.want) {
				t.Fatalf("ValidateScopes(%q, %v) = %q, %q; want %q, %q", tc.scopes, tc.staff, got, msg, tc.want, tc.msg)
			}
		})
	}
	all := model.AllScopes
	for _, sc := range all {
		if !strings.Contains(model.MsgUnknownScope, sc) {
			t.Errorf("MsgUnknownScope does not list %s", sc)
		}
	}
	if got := model.ScopesAllowed(all, true); !slices.Equal(got, all) {
		t.Errorf("staff allowed %v", got)
	}
	if got := model.ScopesAllowed(all, false); slices.Contains(got, model.ScopeAuditRead) || len(got) != len(all)-1 {
		t.Errorf("a patient allowed %v", got)
	}
	if got := model.ScopesAllowed([]string{"audit:read"}, false); got == nil || len(got) != 0 {
		t.Errorf("a demoted audit-only token allowed %#v; want an empty, non-nil list (scoped, nothing granted)", got)
	}
	for _, d := range []int{0, 366, -1} {
		if model.ValidateAPITokenDays(d) == "" {
			t.Errorf("%d days accepted", d)
		}
	}
	for _, d := range []int{1, 30, 365} {
		if msg := model.ValidateAPITokenDays(d); msg != "" {
			t.Errorf("%d days refused: %s", d, msg)
		}
	}
}
