package server

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/model"
)

// input is a request body decoded from JSON or a URL-encoded form, read
// field by field so every type or presence problem names its field.
type input struct {
	json map[string]json.RawMessage
	form url.Values
	errs model.FieldErrors
}

// parseInput decodes the body of c. An empty body is an empty input.
func parseInput(c *fiber.Ctx) (*input, error) {
	in := &input{}
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return in, nil
	}
	ct := c.Get(fiber.HeaderContentType)
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case mt == fiber.MIMEApplicationForm:
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, newError(fiber.StatusBadRequest, "Malformed form body.")
		}
		in.form = form
	case mt == fiber.MIMEApplicationJSON, mt == "", strings.HasSuffix(mt, "+json"):
		dec := json.NewDecoder(bytes.NewReader(body))
		var obj map[string]json.RawMessage
		if err := dec.Decode(&obj); err != nil || dec.More() {
			return nil, newError(fiber.StatusBadRequest, "Malformed JSON body.")
		}
		if obj == nil {
			return nil, newError(fiber.StatusBadRequest, "The request body must be a JSON object.")
		}
		in.json = obj
	default:
		return nil, newError(fiber.StatusUnsupportedMediaType, "Unsupported content type: send application/json or application/x-www-form-urlencoded.")
	}
	return in, nil
}

// raw returns the field as text, reporting presence and whether it was a
// JSON null; a non-string JSON value records a type error.
func (in *input) raw(field string) (value string, present, null bool) {
	v, present, null := in.rawValue(field)
	// Refused here, for every field, stored or not: PostgreSQL's text
	// type holds no NUL and nothing but UTF-8 (model.ValidateText).
	if msg := model.ValidateText(v); msg != "" {
		in.errs.Add(field, msg)
		return "", true, false
	}
	return v, present, null
}

// rawValue is raw before the text check.
func (in *input) rawValue(field string) (value string, present, null bool) {
	if in.json != nil {
		v, ok := in.json[field]
		if !ok {
			return "", false, false
		}
		if string(bytes.TrimSpace(v)) == "null" {
			return "", true, true
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			in.errs.Add(field, model.MsgNotAString)
			return "", true, false
		}
		return s, true, false
	}
	if vs, ok := in.form[field]; ok {
		return vs[0], true, false
	}
	return "", false, false
}

// str returns a string field. A required field that is missing or null
// records "This field is required.".
func (in *input) str(field string, required bool) (string, bool) {
	v, present, null := in.raw(field)
	if (!present || null) && required {
		in.errs.Add(field, model.MsgRequired)
		return "", false
	}
	return v, present && !in.errs.Has(field)
}

// trimmed is str with surrounding white space removed.
func (in *input) trimmed(field string, required bool) (string, bool) {
	v, ok := in.str(field, required)
	return strings.TrimSpace(v), ok
}

// boolean returns a boolean field: JSON true/false, or a form's
// true/false/1/0.
func (in *input) boolean(field string) (value, present bool) {
	if in.json != nil {
		v, ok := in.json[field]
		if !ok {
			return false, false
		}
		var b bool
		if err := json.Unmarshal(v, &b); err != nil || string(bytes.TrimSpace(v)) == "null" {
			in.errs.Add(field, model.MsgNotABoolean)
			return false, false
		}
		return b, true
	}
	vs, ok := in.form[field]
	if !ok {
		return false, false
	}
	b, valid := parseBool(vs[0])
	if !valid {
		in.errs.Add(field, model.MsgNotABoolean)
		return false, false
	}
	return b, true
}

// list returns a field holding a list of strings: a JSON array of
// strings, or in a form the field repeated or its values separated by
// commas. present is false when the field is missing or null.
func (in *input) list(field string) (values []string, present bool) {
	if in.json != nil {
		v, ok := in.json[field]
		if !ok || string(bytes.TrimSpace(v)) == "null" {
			return nil, false
		}
		if err := json.Unmarshal(v, &values); err != nil {
			in.errs.Add(field, model.MsgNotAList)
			return nil, false
		}
	} else {
		vs, ok := in.form[field]
		if !ok {
			return nil, false
		}
		for _, v := range vs {
			for _, part := range strings.Split(v, ",") {
				if part = strings.TrimSpace(part); part != "" {
					values = append(values, part)
				}
			}
		}
	}
	for _, v := range values {
		if msg := model.ValidateText(v); msg != "" {
			in.errs.Add(field, msg)
			return nil, false
		}
	}
	return values, true
}

// integer returns a whole-number field: a JSON number without a fraction,
// or a form's digits; anything else records msg.
func (in *input) integer(field, msg string) (value int, present bool) {
	var text string
	if in.json != nil {
		v, ok := in.json[field]
		if !ok || string(bytes.TrimSpace(v)) == "null" {
			return 0, false
		}
		text = string(bytes.TrimSpace(v))
	} else {
		vs, ok := in.form[field]
		if !ok {
			return 0, false
		}
		text = strings.TrimSpace(vs[0])
	}
	n, err := strconv.Atoi(text)
	if err != nil {
		in.errs.Add(field, msg)
		return 0, false
	}
	return n, true
}

// date returns a YYYY-MM-DD field.
func (in *input) date(field string, required bool) (model.Date, bool) {
	s, ok := in.str(field, required)
	if !ok {
		return model.Date{}, false
	}
	d, err := model.ParseDate(strings.TrimSpace(s))
	if err != nil {
		in.errs.Add(field, model.DateMessage(err))
		return model.Date{}, false
	}
	return d, true
}

// check records msg against field when msg is not empty.
func (in *input) check(field, msg string) {
	if msg != "" {
		in.errs.Add(field, msg)
	}
}

// err returns the collected field errors, if any.
func (in *input) err() error {
	if in.errs.Empty() {
		return nil
	}
	return &apiError{status: fiber.StatusBadRequest, fields: &in.errs}
}

func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "on":
		return true, true
	case "false", "0", "no", "off":
		return false, true
	}
	return false, false
}

// queryText returns the query parameter name, adding a field error to errs
// when it is not text the engines can compare (model.ValidateText).
func queryText(c *fiber.Ctx, name string, errs *model.FieldErrors) string {
	v := c.Query(name)
	if msg := model.ValidateText(v); msg != "" {
		errs.Add(name, msg)
		return ""
	}
	return v
}
