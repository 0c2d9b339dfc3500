// Package model holds Anavara's domain types and the validation rules that
// both the API server and the terminal UI apply, so a rule is written once.
package model
