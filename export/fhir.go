package export

import (
	"strconv"
	"time"

	"github.com/anavara/anavara/model"
)

// The identifier systems of Anavara's own ids: a Patient carries its
// account id, a Condition and its Procedure the id of the medical record
// both come from, so a reader can link them back and to the API.
const (
	SystemAccount = "urn:anavara:account"
	SystemRecord  = "urn:anavara:medical-record"
	SystemSSHKey  = "urn:anavara:ssh-key"
	// SystemAPIToken identifies an API token (its id, never its secret).
	SystemAPIToken = "urn:anavara:api-token"
	// SystemAuditAction codes an AuditEvent's subtype with Anavara's own
	// action ("record.read"), which FHIR's codes only approximate.
	SystemAuditAction = "urn:anavara:audit-action"
	// ExtensionRecordBirthDate is the extension of a Condition holding the
	// date of birth its medical record states: each record carries one, and
	// the Patient's birthDate can only be one of them.
	ExtensionRecordBirthDate = "urn:anavara:fhir:record-date-of-birth"
)

// ProcedureIDPrefix makes a Procedure's id from its record's: the
// Condition takes the record id itself, and FHIR ids must be unique per
// resource type only, but a distinct id keeps the two apart in any store
// that indexes ids across types.
const ProcedureIDPrefix = "proc-"

// Identifier is FHIR's Identifier (https://hl7.org/fhir/R4/datatypes.html#Identifier).
type Identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// Reference is FHIR's Reference (https://hl7.org/fhir/R4/references.html#Reference).
type Reference struct {
	Reference  string      `json:"reference,omitempty"`
	Identifier *Identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

// Coding is FHIR's Coding.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is FHIR's CodeableConcept; Anavara's diagnoses and
// treatments are free text, so only Text is set.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// HumanName is FHIR's HumanName.
type HumanName struct {
	Use    string   `json:"use,omitempty"`
	Text   string   `json:"text,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
}

// Meta is FHIR's resource Meta: the row's version and time of change.
type Meta struct {
	VersionID   string `json:"versionId,omitempty"`
	LastUpdated string `json:"lastUpdated,omitempty"`
}

// Extension is a FHIR extension holding a date.
type Extension struct {
	URL       string `json:"url"`
	ValueDate string `json:"valueDate,omitempty"`
}

// Patient is FHIR R4's Patient (https://hl7.org/fhir/R4/patient.html).
type Patient struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id"`
	Meta         *Meta        `json:"meta,omitempty"`
	Identifier   []Identifier `json:"identifier"`
	Active       bool         `json:"active"`
	Name         []HumanName  `json:"name,omitempty"`
	BirthDate    string       `json:"birthDate,omitempty"`
}

// Condition is FHIR R4's Condition (https://hl7.org/fhir/R4/condition.html).
type Condition struct {
	ResourceType string           `json:"resourceType"`
	ID           string           `json:"id"`
	Meta         *Meta            `json:"meta,omitempty"`
	Extension    []Extension      `json:"extension,omitempty"`
	Identifier   []Identifier     `json:"identifier"`
	Code         *CodeableConcept `json:"code,omitempty"`
	Subject      Reference        `json:"subject"`
	RecordedDate string           `json:"recordedDate"`
}

// Procedure is FHIR R4's Procedure (https://hl7.org/fhir/R4/procedure.html).
type Procedure struct {
	ResourceType      string               `json:"resourceType"`
	ID                string               `json:"id"`
	Meta              *Meta                `json:"meta,omitempty"`
	Identifier        []Identifier         `json:"identifier"`
	Status            string               `json:"status"`
	Code              *CodeableConcept     `json:"code,omitempty"`
	Subject           Reference            `json:"subject"`
	PerformedDateTime string               `json:"performedDateTime,omitempty"`
	Performer         []ProcedurePerformer `json:"performer,omitempty"`
	ReasonReference   []Reference          `json:"reasonReference,omitempty"`
}

// ProcedurePerformer is one performer of a Procedure; R4 requires its actor.
type ProcedurePerformer struct {
	Actor Reference `json:"actor"`
}

// PatientResource is the Patient of account u: the account id as its id
// and identifier, the account's names, whether it may sign in as active,
// and birth, the date of birth its records state (the newest record's,
// should they differ), omitted when it has none.
func PatientResource(u model.User, birth model.Date) Patient {
	p := Patient{
		ResourceType: "Patient",
		ID:           u.ID,
		Meta:         &Meta{VersionID: version(u.Version), LastUpdated: instant(u.Updated)},
		Identifier:   []Identifier{{System: SystemAccount, Value: u.ID}},
		Active:       u.IsActive,
	}
	if name := u.FullName(); name != "" {
		n := HumanName{Use: "official", Text: name, Family: u.LastName}
		if u.FirstName != "" {
			n.Given = []string{u.FirstName}
		}
		p.Name = []HumanName{n}
	}
	if !birth.IsZero() {
		p.BirthDate = birth.String()
	}
	return p
}

// ConditionResource is the Condition of medical record r: its diagnosis
// as the code's text, recorded when the record was created, about the
// record's patient account, named as the record names the patient. The
// record's own date of birth travels in an extension.
// Clinical and verification status are left out: a record says neither
// whether the condition is still active nor how it was confirmed.
func ConditionResource(r model.MedicalRecord) Condition {
	c := Condition{
		ResourceType: "Condition",
		ID:           r.ID,
		Meta:         &Meta{VersionID: version(r.Version), LastUpdated: instant(r.Updated)},
		Identifier:   []Identifier{{System: SystemRecord, Value: r.ID}},
		Subject:      patientReference(r.UserID, r.PatientName),
		RecordedDate: instant(r.Created),
	}
	if !r.DateOfBirth.IsZero() {
		c.Extension = []Extension{{URL: ExtensionRecordBirthDate, ValueDate: r.DateOfBirth.String()}}
	}
	if r.Diagnosis != "" {
		c.Code = &CodeableConcept{Text: r.Diagnosis}
	}
	return c
}

// ProcedureResource is the Procedure of medical record r: its treatment
// as the code's text, performed on the date of treatment by the doctor
// the record names (by name alone: doctors are not accounts), for the
// reason of r's Condition. Its identifier is the Condition's, which links
// the two. A record is written once the treatment is decided, so the
// status is "completed", the one R4 requires some value for.
func ProcedureResource(r model.MedicalRecord) Procedure {
	p := Procedure{
		ResourceType:    "Procedure",
		ID:              ProcedureIDPrefix + r.ID,
		Meta:            &Meta{VersionID: version(r.Version), LastUpdated: instant(r.Updated)},
		Identifier:      []Identifier{{System: SystemRecord, Value: r.ID}},
		Status:          "completed",
		Subject:         patientReference(r.UserID, r.PatientName),
		ReasonReference: []Reference{{Reference: "Condition/" + r.ID}},
	}
	if r.Treatment != "" {
		p.Code = &CodeableConcept{Text: r.Treatment}
	}
	if !r.DateOfTreatment.IsZero() {
		p.PerformedDateTime = r.DateOfTreatment.String()
	}
	if r.Doctor != "" {
		p.Performer = []ProcedurePerformer{{Actor: Reference{Display: r.Doctor}}}
	}
	return p
}

// patientReference points at the Patient of account id.
func patientReference(id, display string) Reference {
	return Reference{Reference: "Patient/" + id, Identifier: &Identifier{System: SystemAccount, Value: id}, Display: display}
}

// instant is t as a FHIR instant (and dateTime): RFC 3339 in UTC, to the
// microsecond Anavara stores.
func instant(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// version is a row's version as a FHIR versionId; none for 0 (unknown).
func version(v int64) string {
	if v <= 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}
