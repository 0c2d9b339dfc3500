package server

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/swaggest/swgui"
	"github.com/swaggest/swgui/v5/static"
	"github.com/swaggest/swgui/v5emb"
)

// openAPIYAML is the API's OpenAPI 3 document, kept in the repository next
// to the handlers it describes and validated against them by the tests.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPIDocument returns the OpenAPI 3 document (YAML) that GET /schema
// serves, so tests elsewhere can validate responses against it. The caller
// gets its own copy.
func OpenAPIDocument() []byte { return append([]byte(nil), openAPIYAML...) }

const (
	mimeYAML = "application/yaml"

	// docsBase is where the interactive documentation and its assets live.
	docsBase = "/docs/"
	// schemaJSONURL is the document as the documentation page loads it.
	schemaJSONURL = "/schema?format=json"
)

// docsRoutes serves the OpenAPI document and the interactive docs. Swagger
// UI's scripts, styles and icons are embedded in the binary (swgui/v5emb),
// so the docs work without internet access.
func (s *Server) docsRoutes(app *fiber.App) {
	// The JSON form is converted from the YAML once, on first use.
	schemaJSON := sync.OnceValues(func() ([]byte, error) { return yamlToJSON(openAPIYAML) })

	app.Get("/schema", func(c *fiber.Ctx) error {
		c.Vary(fiber.HeaderAccept)
		asJSON := false
		switch format := c.Query("format"); format {
		case "json":
			asJSON = true
		case "yaml":
		case "":
			asJSON = c.Accepts(mimeYAML, fiber.MIMEApplicationJSON) == fiber.MIMEApplicationJSON
		default:
			return fieldError("format", "Must be one of json, yaml.")
		}
		if !asJSON {
			c.Set(fiber.HeaderContentType, mimeYAML)
			return c.Send(openAPIYAML)
		}
		doc, err := schemaJSON()
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(doc)
	})

	ui := adaptor.HTTPHandler(docsCanonicalPath(v5emb.NewHandlerWithConfig(swgui.Config{
		Title:       "Anavara API",
		SwaggerJSON: schemaJSONURL,
		BasePath:    docsBase,
		SettingsUI: map[string]string{
			// Show the schemas section, and keep a pasted token across
			// reloads of the page.
			"defaultModelsExpandDepth": "1",
			"persistAuthorization":     "true",
		},
	})))
	app.Get("/docs", ui)
	app.Get("/docs/*", func(c *fiber.Ctx) error {
		// The page itself, or an embedded asset; anything else is the API's
		// usual JSON 404 rather than the file server's plain-text one.
		if name := docsAssetName(c.Params("*")); name != "" && !docsAssetExists(name) {
			return errNotFound
		}
		return ui(c)
	})
}

// docsAssetName is the asset a path below /docs/ names: "" for the page
// itself, as "/docs/" and "/docs//" are.
func docsAssetName(p string) string {
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

// docsCanonicalPath hands Swagger UI's handler the path spelled as it
// serves it. Fiber matches /docs as every route, without regard to case
// and with any trailing slashes (the document's conventions); the handler
// compares the path exactly, and would answer "/DOCS" or "/docs//" with
// a plain-text 404.
func docsCanonicalPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := path.Clean(r.URL.Path)
		if base := strings.TrimSuffix(docsBase, "/"); len(p) >= len(base) && strings.EqualFold(p[:len(base)], base) {
			p = base + p[len(base):]
		}
		r.URL.Path, r.URL.RawPath = p, ""
		next.ServeHTTP(w, r)
	})
}

// docsAssetExists reports whether Swagger UI's embedded assets hold name,
// stored as is or gzip-compressed.
func docsAssetExists(name string) bool {
	name = docsAssetName(name)
	for _, candidate := range []string{name, name + ".gz"} {
		if info, err := fs.Stat(static.FS, candidate); err == nil && !info.IsDir() {
			return true
		}
	}
	return false
}

// yamlToJSON re-encodes the OpenAPI document as JSON.
func yamlToJSON(doc []byte) ([]byte, error) {
	t, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("load OpenAPI document: %w", err)
	}
	out, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encode OpenAPI document as JSON: %w", err)
	}
	return out, nil
}
