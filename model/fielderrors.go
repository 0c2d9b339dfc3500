package model

import "strings"

// FieldErrors collects validation messages per input field, remembering the
// order fields failed in so the first error is stable.
type FieldErrors struct {
	order []string
	msgs  map[string][]string
}

// Add records msg against field.
func (e *FieldErrors) Add(field, msg string) {
	if e.msgs == nil {
		e.msgs = make(map[string][]string)
	}
	if _, seen := e.msgs[field]; !seen {
		e.order = append(e.order, field)
	}
	e.msgs[field] = append(e.msgs[field], msg)
}

// AddAll records each of msgs against field.
func (e *FieldErrors) AddAll(field string, msgs []string) {
	for _, m := range msgs {
		e.Add(field, m)
	}
}

// Has reports whether field has an error.
func (e *FieldErrors) Has(field string) bool {
	_, ok := e.msgs[field]
	return ok
}

// Get returns the messages recorded for field.
func (e *FieldErrors) Get(field string) []string { return e.msgs[field] }

// Empty reports whether no error was recorded.
func (e *FieldErrors) Empty() bool { return e == nil || len(e.order) == 0 }

// Fields returns the failing field names in the order they failed.
func (e *FieldErrors) Fields() []string { return append([]string(nil), e.order...) }

// Map returns the errors keyed by field.
func (e *FieldErrors) Map() map[string][]string { return e.msgs }

// First returns the first message of the first failing field.
func (e *FieldErrors) First() string {
	if e.Empty() {
		return ""
	}
	return e.msgs[e.order[0]][0]
}

// Err returns e as an error, or nil when there is nothing to report.
func (e *FieldErrors) Err() error {
	if e.Empty() {
		return nil
	}
	return e
}

// Error implements error.
func (e *FieldErrors) Error() string {
	parts := make([]string, 0, len(e.order))
	for _, f := range e.order {
		parts = append(parts, f+": "+strings.Join(e.msgs[f], " "))
	}
	return "invalid input: " + strings.Join(parts, "; ")
}
