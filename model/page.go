package model

// Page is one page of a paginated list.
type Page[T any] struct {
	Count         int     `json:"count"`
	NumberOfPages int     `json:"number_of_pages"`
	Next          *string `json:"next"`
	Previous      *string `json:"previous"`
	Results       []T     `json:"results"`
}

// Page sizes accepted by every list endpoint.
const (
	DefaultPageSize = 20
	MinPageSize     = 1
	MaxPageSize     = 100
)

// PageCount returns how many pages of size hold count items; an empty list
// still has one (empty) page.
func PageCount(count, size int) int {
	if count == 0 {
		return 1
	}
	return (count + size - 1) / size
}
