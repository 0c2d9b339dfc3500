package server

import (
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/model"
)

// pageRequest is a validated page and page size.
type pageRequest struct {
	number int
	size   int
}

func (p pageRequest) offset() int { return (p.number - 1) * p.size }

// parsePage reads ?page and ?page_size, recording problems in errs.
func parsePage(c *fiber.Ctx, errs *model.FieldErrors) pageRequest {
	p := pageRequest{number: 1, size: model.DefaultPageSize}
	if v := c.Query("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs.Add("page", model.MsgPageNumber)
		} else {
			p.number = n
		}
	}
	if v := c.Query("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < model.MinPageSize || n > model.MaxPageSize {
			errs.Add("page_size", model.MsgPageSize)
		} else {
			p.size = n
		}
	}
	return p
}

// newPage wraps one page of results with the total count and absolute links
// to its neighbours. A page past the end is an error; page 1 of nothing is an
// empty page.
func newPage[T any](c *fiber.Ctx, p pageRequest, results []T, count int) (model.Page[T], error) {
	pages := model.PageCount(count, p.size)
	if p.number > pages {
		return model.Page[T]{}, errInvalidPage
	}
	page := model.Page[T]{Count: count, NumberOfPages: pages, Results: results}
	if page.Results == nil {
		page.Results = []T{}
	}
	if p.number < pages {
		page.Next = pageLink(c, p.number+1)
	}
	if p.number > 1 {
		page.Previous = pageLink(c, p.number-1)
	}
	return page, nil
}

// pageLink is the absolute URL of this request with its page replaced.
func pageLink(c *fiber.Ctx, number int) *string {
	q, _ := url.ParseQuery(string(c.Request().URI().QueryString()))
	q.Set("page", strconv.Itoa(number))
	link := c.BaseURL() + c.Path() + "?" + q.Encode()
	return &link
}
