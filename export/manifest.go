package export

import (
	"time"

	"github.com/anavara/anavara/model"
)

// DocumentationURL is the public documentation of the export's layout:
// FHIR Bulk Data Access, whose output files and manifest it follows.
const DocumentationURL = "https://hl7.org/fhir/uv/bulkdata/"

// ManifestFile is the name of the manifest in a population export.
const ManifestFile = "manifest.json"

// Manifest describes a population export, modelled on the FHIR Bulk Data
// complete-status manifest (https://hl7.org/fhir/uv/bulkdata/export.html#response---complete-status):
// output's url is a file name relative to the manifest, as the files
// travel together in a directory or an archive rather than on a server.
type Manifest struct {
	// TransactionTime is the moment of the snapshot the export shows.
	TransactionTime time.Time `json:"transactionTime"`
	Request         string    `json:"request"`
	// RequiresAccessToken is false: the files are local, not served.
	RequiresAccessToken bool             `json:"requiresAccessToken"`
	Output              []ManifestOutput `json:"output"`
	Error               []ManifestOutput `json:"error"`
	Documentation       string           `json:"documentation"`
	// AuditHead is the audit chain's head in the snapshot, which the
	// AuditEvent file ends with: anchoring it lets the exported trail be
	// checked against the database's later.
	AuditHead model.AuditHead `json:"audit_head"`
}

// ManifestOutput is one file of the export.
type ManifestOutput struct {
	Type  string `json:"type"`
	URL   string `json:"url"`
	Count int64  `json:"count"`
}

// Count is the number of resources of type typ the manifest lists.
func (m Manifest) Count(typ string) int64 {
	for _, o := range m.Output {
		if o.Type == typ {
			return o.Count
		}
	}
	return 0
}
