package model

// Page is one page of a paginated list, by page number or, when the
// caller asks for it (PaginateCursor), by cursor.
type Page[T any] struct {
	// Count is the number of items matching the list's filters, over all
	// pages, in either mode.
	Count int `json:"count"`
	// NumberOfPages is the number of pages by number; absent from a page
	// by cursor, where pages have no numbers.
	NumberOfPages int `json:"number_of_pages,omitempty"`
	// Next and Previous link the neighbouring pages, nil at the ends.
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	// Cursors are set on a page by cursor only: a nil pointer adds no
	// fields to the JSON, so pages by number look as they always did.
	*Cursors
	Results []T `json:"results"`
}

// Cursors are the opaque cursors of a page by cursor's neighbours, which
// its Next and Previous links carry as ?cursor=; nil at the ends.
type Cursors struct {
	NextCursor     *string `json:"next_cursor"`
	PreviousCursor *string `json:"previous_cursor"`
}

// How a list is paginated: ?paginate= takes one of these.
const (
	PaginatePage   = "page"
	PaginateCursor = "cursor"
)

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
