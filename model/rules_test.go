package model_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/anavara/anavara/model"
)

func TestValidateEmail(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"ann@example.org", ""},
		{"first.last+tag@sub.example.co.uk", ""},
		{"", model.MsgBlank},
		{"ann", model.MsgInvalidEmail},
		{"ann@", model.MsgInvalidEmail},
		{"@example.org", model.MsgInvalidEmail},
		{"ann@example", model.MsgInvalidEmail},
		{"ann@@example.org", model.MsgInvalidEmail},
		{"ann smith@example.org", model.MsgInvalidEmail},
		{"ann@exa mple.org", model.MsgInvalidEmail},
		{"ann@-example.org", model.MsgInvalidEmail},
		{strings.Repeat("a", 65) + "@example.org", model.MsgInvalidEmail},
		{"a@" + strings.Repeat("b", 250) + ".org", model.MsgInvalidEmail},
		{"ann@example.org\n", model.MsgInvalidEmail},
	} {
		if got := model.ValidateEmail(tc.in); got != tc.want {
			t.Errorf("ValidateEmail(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := model.NormalizeEmail("  Ann@Example.ORG "); got != "ann@example.org" {
		t.Errorf("NormalizeEmail = %q", got)
	}
}

func TestValidatePassword(t *testing.T) {
	owner := model.PasswordOwner{Email: "grace.hopper@example.org", FirstName: "Grace", LastName: "Hopper"}
	for _, tc := range []struct {
		pw   string
		want []string
	}{
		{"Vq7!plum-Orbit-42", nil},
		{"short1!", []string{model.MsgPasswordTooShort}},
		{"12345678", []string{model.MsgPasswordCommon, model.MsgPasswordNumeric}},
		{"90817263544", []string{model.MsgPasswordNumeric}},
		{"iloveyou", []string{model.MsgPasswordCommon}},
		{"Football", []string{model.MsgPasswordCommon}},
		{"gracehopper", []string{"The password is too similar to the email address."}},
		{"hopper123", []string{"The password is too similar to the email address."}},
		{strings.Repeat("x", 1025), []string{model.MsgPasswordTooLong}},
	} {
		got := model.ValidatePassword(tc.pw, owner)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("ValidatePassword(%.20q) = %q, want %q", tc.pw, got, tc.want)
		}
	}
}

// The policy promises at least the 1,000 most common passwords, names and
// words among them: a list that only has keyboard patterns and digits lets
// "jennifer" through.
func TestCommonPasswordList(t *testing.T) {
	for _, pw := range []string{
		"123456", "password", "qwerty", "letmein", "dragon", "monkey", "trustno1",
		"jennifer", "michelle", "michael", "jessica", "ashley", "basketball", "aaaaaaaa", "121212",
		"Jennifer", " basketball ",
	} {
		if !model.IsCommonPassword(pw) {
			t.Errorf("%q not on the list", pw)
		}
	}
	for _, pw := range []string{"Jennifer-in-Lisbon-1987", "x7#Qp2!vLm"} {
		if model.IsCommonPassword(pw) {
			t.Errorf("%q is on the list", pw)
		}
	}
	if n := model.CommonPasswordCount(); n < 20_000 {
		t.Errorf("%d common passwords, want the 20,000 of both lists", n)
	}
}

func TestDate(t *testing.T) {
	for _, bad := range []string{"", "2026-3-1", "2026-02-30", "10/03/2026", "2026-03-10T00:00:00Z", " 2026-03-10"} {
		if _, err := model.ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	for in, want := range map[string]string{
		"1990-02-30": "This date does not exist. February 1990 has 28 days.",
		"2024-02-30": "This date does not exist. February 2024 has 29 days.",
		"2026-04-31": "This date does not exist. April 2026 has 30 days.",
		"2026-13-01": "This date does not exist. There is no month 13.",
		"2026-00-10": "This date does not exist. There is no month 0.",
		"2026-01-00": "This date does not exist. There is no day 0.",
		"1990/02/30": model.MsgDateFormat,
		"2026-3-1":   model.MsgDateFormat,
		"2026-1a-01": model.MsgDateFormat,
	} {
		_, err := model.ParseDate(in)
		if got := model.DateMessage(err); got != want {
			t.Errorf("DateMessage(ParseDate(%q)) = %q, want %q", in, got, want)
		}
	}
	d, err := model.ParseDate("2024-02-29")
	if err != nil || d.String() != "2024-02-29" {
		t.Fatalf("leap day: %v %v", d, err)
	}
	b, _ := json.Marshal(struct{ D model.Date }{d})
	if string(b) != `{"D":"2024-02-29"}` {
		t.Fatalf("json %s", b)
	}
	var back struct{ D model.Date }
	if err := json.Unmarshal(b, &back); err != nil || back.D != d {
		t.Fatalf("round trip %v %v", back.D, err)
	}
	today := model.NewDate(2026, 3, 10)
	if model.ValidateTreatmentDate(today, today) == "" || model.ValidateTreatmentDate(today.AddDays(1), today) != "" {
		t.Fatal("treatment date must be strictly after today")
	}
	if model.ValidateDateOfBirth(today, today) != "" || model.ValidateDateOfBirth(today.AddDays(1), today) == "" {
		t.Fatal("birth date may be today but not tomorrow")
	}
}

func TestLengthRules(t *testing.T) {
	if model.ValidateName(strings.Repeat("é", 150)) != "" || model.ValidateName(strings.Repeat("é", 151)) == "" {
		t.Fatal("name limit must count characters, up to 150")
	}
	if model.ValidateRecordText(strings.Repeat("x", 10000)) != "" || model.ValidateRecordText(strings.Repeat("x", 10001)) == "" {
		t.Fatal("text limit is 10,000 characters")
	}
	if model.ValidateRecordText("") != "" || model.ValidateRecordName("") == "" {
		t.Fatal("texts are optional, names are not")
	}
}
