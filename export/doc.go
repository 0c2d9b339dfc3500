// Package export writes Anavara's data in standard formats, for patients
// exercising their right to their data and for moving a whole database
// to another system: FHIR R4 resources (https://hl7.org/fhir/R4/) as
// NDJSON, one resource a line, laid out as the FHIR Bulk Data Access
// specification lays out its output (https://hl7.org/fhir/uv/bulkdata/),
// and a person's records as CSV.
//
// Everything is read from one db.Snapshot and streamed: an export holds
// a buffer and a batch of rows in memory, never a whole file, so its size
// is bounded by the database's, not by the memory of the process writing
// it. The mapping from Anavara's records to FHIR is documented on the
// functions that build each resource (fhir.go, audit_event.go).
package export
