package export_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// fhirSchema is HL7's FHIR R4 JSON schema (testdata/README.md), compiled
// once for the package's tests: it is 3 MB.
var fhirSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open("testdata/fhir.schema.json")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	const url = "http://hl7.org/fhir/json-schema/4.0"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
})

// validateNDJSON checks every line of r against the FHIR R4 schema and
// returns how many resources of each type it holds.
func validateNDJSON(t *testing.T, r io.Reader) map[string]int {
	t.Helper()
	sch, err := fhirSchema()
	if err != nil {
		t.Fatalf("FHIR schema: %v", err)
	}
	types := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
		if err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", n, err, line)
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("line %d is not valid FHIR R4: %v\n%s", n, err, line)
		}
		var head struct{ ResourceType string }
		json.Unmarshal(line, &head)
		types[head.ResourceType]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return types
}

// The schema catches what the export must never write: the validator is
// not one that passes everything.
func TestSchemaRejectsInvalidResources(t *testing.T) {
	for _, tc := range []struct{ name, line string }{
		{"condition without subject", `{"resourceType":"Condition","id":"x"}`},
		{"procedure performer without actor", `{"resourceType":"Procedure","id":"x","status":"completed","subject":{"reference":"Patient/p"},"performer":[{}]}`},
		{"bad id", `{"resourceType":"Patient","id":"not an id!"}`},
		{"bad birth date", `{"resourceType":"Patient","id":"p","birthDate":"1990-13-01"}`},
		{"audit event without source", `{"resourceType":"AuditEvent","id":"a","type":{"code":"x"},"recorded":"2026-01-01T00:00:00Z","agent":[{"requestor":true}]}`},
		{"empty string", `{"resourceType":"Patient","id":"p","name":[{"text":""}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sch, err := fhirSchema()
			if err != nil {
				t.Fatal(err)
			}
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(tc.line)))
			if err != nil {
				t.Fatal(err)
			}
			if sch.Validate(v) == nil {
				t.Fatalf("the schema accepts %s", tc.line)
			}
		})
	}
}
