package client

import (
	"net/url"
	"strconv"

	"github.com/anavara/anavara/model"
)

// setPage adds page and page_size when they are not zero, and for a
// page by cursor paginate=cursor and the cursor, if any.
func setPage(v url.Values, page, size int, byCursor bool, cursor string) {
	if page != 0 {
		v.Set("page", strconv.Itoa(page))
	}
	if size != 0 {
		v.Set("page_size", strconv.Itoa(size))
	}
	if byCursor || cursor != "" {
		v.Set("paginate", model.PaginateCursor)
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
}

// setString adds name=s when s is not empty.
func setString(v url.Values, name, s string) {
	if s != "" {
		v.Set(name, s)
	}
}

// setBool adds name=true|false when b is set.
func setBool(v url.Values, name string, b *bool) {
	if b != nil {
		v.Set(name, strconv.FormatBool(*b))
	}
}

// setDate adds name=YYYY-MM-DD when d is set.
func setDate(v url.Values, name string, d *model.Date) {
	if d != nil {
		v.Set(name, d.String())
	}
}
