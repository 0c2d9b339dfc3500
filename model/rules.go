package model

import (
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Validation messages shared by the server and the terminal UI.
const (
	MsgRequired        = "This field is required."
	MsgBlank           = "This field may not be blank."
	MsgNullCharacter   = "Null characters are not allowed."
	MsgInvalidText     = "Enter valid UTF-8 text."
	MsgInvalidEmail    = "Enter a valid email address."
	MsgEmailTaken      = "user with this email already exists."
	MsgDateFormat      = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
	MsgDateNotExist    = "This date does not exist."
	MsgBirthInFuture   = "Date of birth cannot be in the future."
	MsgTreatmentFuture = "Ensure treatment dates are in the future"
	MsgUnknownUser     = "User with the given ID does not exist"
	MsgNotABoolean     = "Must be a valid boolean."
	MsgNotAString      = "Not a valid string."
	MsgInvalidUUID     = "Must be a valid UUID."
	MsgPageSize        = "Ensure this value is between 1 and 100."
	MsgPageNumber      = "Ensure this value is a whole number of at least 1."
	MsgPaginate        = "Must be page or cursor."
	MsgPageWithCursor  = "Page numbers and cursors do not mix: drop page to paginate by cursor."
	MsgCursorMode      = "A cursor paginates by cursor: drop paginate=page, or the cursor."
	MsgCursorInvalid   = "Not a cursor of this server: use the next_cursor or previous_cursor of a page."
	MsgCursorOtherList = "This cursor belongs to another list, filters or ordering: send the filters and ordering of the page that gave it, or start again without a cursor."
	MsgInvalidOrdering = "Must be one of created, updated, date_of_treatment, patient_name, optionally prefixed with -."
	MsgInvalidCode     = "Enter the 6-digit code from the email."
	MsgSelfDemote      = "You cannot remove your own staff status."
	MsgSelfDeactivate  = "You cannot deactivate your own account."
	MsgOwnerChange     = "You cannot move a record to another account."
	// MsgRecordChanged and MsgUserChanged answer a PUT, PATCH or DELETE
	// whose If-Match names a version the row no longer has (412).
	MsgRecordChanged = "The record was changed by someone else; reload it."
	MsgUserChanged   = "The account was changed by someone else; reload it."
	// MsgBadIfMatch answers an If-Match header that is not "*" or a list of
	// strong entity tags (400).
	MsgBadIfMatch = "The If-Match header must be * or a list of quoted entity tags."
)

// Length limits.
const (
	MaxNameLength       = 150
	MaxEmailLength      = 254
	MaxRecordNameLength = 255
	MaxRecordTextLength = 10000
	MinPasswordLength   = 8
	MaxPasswordLength   = 1024
	OTPLength           = 6
)

// emailPattern accepts the addresses people use: a dot-atom local part and a
// domain of at least two labels ending in an alphabetic TLD.
var emailPattern = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$`)

// uuidPattern matches a canonical lower- or upper-case UUID.
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// NormalizeEmail trims an address and lower-cases it, so "Ann@X.org" and
// "ann@x.org" are one account.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateEmail returns a message when s (already normalised) is not a valid
// address, or "".
func ValidateEmail(s string) string {
	if s == "" {
		return MsgBlank
	}
	at := strings.LastIndexByte(s, '@')
	if len(s) > MaxEmailLength || at < 1 || at > 64 || !emailPattern.MatchString(s) {
		return MsgInvalidEmail
	}
	return ""
}

// ValidateName returns a message when a trimmed person's name is empty or
// longer than MaxNameLength, or "".
func ValidateName(s string) string { return validateLength(s, 1, MaxNameLength) }

// ValidateRecordName checks a record's patient_name or doctor.
func ValidateRecordName(s string) string { return validateLength(s, 1, MaxRecordNameLength) }

// ValidateRecordText checks a record's diagnosis or treatment.
func ValidateRecordText(s string) string { return validateLength(s, 0, MaxRecordTextLength) }

func validateLength(s string, min, max int) string {
	if msg := ValidateText(s); msg != "" {
		return msg
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n < min && n == 0:
		return MsgBlank
	case n > max:
		return "Ensure this field has no more than " + itoa(max) + " characters."
	}
	return ""
}

// ValidateText returns a message when s holds a NUL character or is not
// valid UTF-8, or "". Every text a client sends, stored or searched for,
// passes it: PostgreSQL's text type can hold neither, and SQLite would
// store what PostgreSQL then refuses to copy, so both engines refuse the
// same input with the same 400.
func ValidateText(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return MsgNullCharacter
	case !utf8.ValidString(s):
		return MsgInvalidText
	}
	return ""
}

// DateMessage is the field message for a ParseDate error: MsgDateFormat
// when the text is not YYYY-MM-DD, MsgDateNotExist and the reason when it is
// but names no real day (2026-13-01, 1990-02-30).
func DateMessage(err error) string {
	var de *DateError
	if errors.As(err, &de) && de.Reason != "" {
		return MsgDateNotExist + " " + de.Reason
	}
	return MsgDateFormat
}

// ValidateDateOfBirth returns a message when d lies after today.
func ValidateDateOfBirth(d, today Date) string {
	if d.After(today) {
		return MsgBirthInFuture
	}
	return ""
}

// ValidateTreatmentDate returns a message unless d is strictly after today.
func ValidateTreatmentDate(d, today Date) string {
	if !d.After(today) {
		return MsgTreatmentFuture
	}
	return ""
}

// ValidUUID reports whether s is a canonical UUID string.
func ValidUUID(s string) bool { return uuidPattern.MatchString(s) }

// ValidateOTPCode returns a message unless s is exactly six digits.
func ValidateOTPCode(s string) string {
	if len(s) != OTPLength {
		return MsgInvalidCode
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return MsgInvalidCode
		}
	}
	return ""
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
