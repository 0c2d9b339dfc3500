package model

// ErrorBody is the body of every non-2xx API response. Errors is present only
// for problems with named fields, and Message is then the first field error.
type ErrorBody struct {
	Message string              `json:"message"`
	Errors  map[string][]string `json:"errors,omitempty"`
}
