package export

import (
	"net"
	"strings"
	"time"

	"github.com/anavara/anavara/model"
)

// The code systems an AuditEvent draws on (https://hl7.org/fhir/R4/auditevent.html).
const (
	systemDICOM      = "http://dicom.nema.org/resources/ontology/DCM"
	systemSourceType = "http://terminology.hl7.org/CodeSystem/security-source-type"
)

// AuditEvent is FHIR R4's AuditEvent (https://hl7.org/fhir/R4/auditevent.html).
type AuditEvent struct {
	ResourceType string             `json:"resourceType"`
	ID           string             `json:"id"`
	Type         Coding             `json:"type"`
	Subtype      []Coding           `json:"subtype,omitempty"`
	Action       string             `json:"action"`
	Recorded     string             `json:"recorded"`
	Outcome      string             `json:"outcome"`
	Agent        []AuditEventAgent  `json:"agent"`
	Source       AuditEventSource   `json:"source"`
	Entity       []AuditEventEntity `json:"entity,omitempty"`
}

// AuditEventAgent is who acted, and from which address.
type AuditEventAgent struct {
	Who       Reference          `json:"who"`
	Requestor bool               `json:"requestor"`
	Network   *AuditEventNetwork `json:"network,omitempty"`
}

// AuditEventNetwork is the address a request came from: type "2" is an
// IP address, "1" a machine name (what a command on the server records).
type AuditEventNetwork struct {
	Address string `json:"address"`
	Type    string `json:"type"`
}

// AuditEventSource is what recorded the event: Anavara, an application
// server, with the way the request reached it (api, ssh, cli) as site.
type AuditEventSource struct {
	Site     string    `json:"site,omitempty"`
	Observer Reference `json:"observer"`
	Type     []Coding  `json:"type"`
}

// AuditEventEntity is one thing the event was about.
type AuditEventEntity struct {
	What Reference `json:"what"`
}

// auditFacts is what an AuditEvent resource says of one audit event,
// from the trail itself (population export) or from a person's access
// log (their own export), which shows them less.
type auditFacts struct {
	ID        string
	At        time.Time
	Action    string
	Entity    string
	EntityID  *string
	RecordIDs []string
	Via       string
	IP        string
	// Who is the agent; the caller knows how the actor may be named.
	Who Reference
	// TokenID is the API token the request was authenticated with, if
	// one was and the reader may know it.
	TokenID *string
	// Account refers to an account the event was about.
	Account func(id string) Reference
}

// auditEventResource is the AuditEvent of f. Anavara's action is kept
// exactly as the subtype; type and action are FHIR's nearest codes.
func auditEventResource(f auditFacts) AuditEvent {
	e := AuditEvent{
		ResourceType: "AuditEvent",
		ID:           f.ID,
		Type:         auditType(f.Action),
		Subtype:      []Coding{{System: SystemAuditAction, Code: f.Action}},
		Action:       auditAction(f.Action),
		Recorded:     instant(f.At),
		Outcome:      auditOutcome(f.Action),
		Agent:        []AuditEventAgent{{Who: f.Who, Requestor: true}},
		Source: AuditEventSource{
			Site:     f.Via,
			Observer: Reference{Display: "Anavara"},
			Type:     []Coding{{System: systemSourceType, Code: "4", Display: "Application Server"}},
		},
	}
	if f.IP != "" {
		kind := "2"
		if net.ParseIP(f.IP) == nil {
			kind = "1"
		}
		e.Agent[0].Network = &AuditEventNetwork{Address: f.IP, Type: kind}
	}
	if f.TokenID != nil {
		// The credential the requestor acted through, as a second agent:
		// FHIR's agents are whoever and whatever took part.
		e.Agent = append(e.Agent, AuditEventAgent{Who: apiTokenReference(*f.TokenID)})
	}
	seen := map[string]bool{}
	for _, id := range f.RecordIDs {
		if !seen[id] {
			seen[id] = true
			e.Entity = append(e.Entity, AuditEventEntity{What: recordReference(id)})
		}
	}
	if f.EntityID != nil {
		id := *f.EntityID
		switch f.Entity {
		case model.EntityRecord:
			if !seen[id] {
				e.Entity = append(e.Entity, AuditEventEntity{What: recordReference(id)})
			}
		case model.EntityUser:
			e.Entity = append(e.Entity, AuditEventEntity{What: f.Account(id)})
		case model.EntitySSHKey:
			e.Entity = append(e.Entity, AuditEventEntity{What: Reference{Identifier: &Identifier{System: SystemSSHKey, Value: id}}})
		case model.EntityAPIToken:
			e.Entity = append(e.Entity, AuditEventEntity{What: apiTokenReference(id)})
		}
	}
	if f.Entity == model.EntityDatabase {
		e.Entity = append(e.Entity, AuditEventEntity{What: Reference{Display: "the whole database"}})
	}
	return e
}

// apiTokenReference identifies API token id.
func apiTokenReference(id string) Reference {
	return Reference{Identifier: &Identifier{System: SystemAPIToken, Value: id}, Display: "API token"}
}

// recordReference points at the Condition of record id, by reference and
// by identifier: a deleted record's Condition is gone from the export.
func recordReference(id string) Reference {
	return Reference{Reference: "Condition/" + id, Identifier: &Identifier{System: SystemRecord, Value: id}}
}

// auditType is the DICOM event type nearest the action (the codes FHIR's
// audit-event-type value set takes from DICOM).
func auditType(action string) Coding {
	switch {
	case action == model.ActionUserExport || action == model.ActionPopulationExport:
		return Coding{System: systemDICOM, Code: "110106", Display: "Export"}
	case action == model.ActionRecordList || action == model.ActionRecordSearch:
		return Coding{System: systemDICOM, Code: "110112", Display: "Query"}
	case strings.HasPrefix(action, "auth.") || strings.HasPrefix(action, "ssh_key."):
		// An SSH key is a credential: adding one changes how the account
		// authenticates.
		return Coding{System: systemDICOM, Code: "110114", Display: "User Authentication"}
	}
	return Coding{System: systemDICOM, Code: "110110", Display: "Patient Record"}
}

// auditAction is FHIR's AuditEventAction of an Anavara action: create,
// read, update, delete, or execute for everything else (signing in, an
// export).
func auditAction(action string) string {
	_, verb, _ := strings.Cut(action, ".")
	switch verb {
	case "create", "signup", "add":
		return "C"
	case "read", "list", "search", "access_log":
		return "R"
	case "update", "password_change", "password_reset":
		return "U"
	case "delete", "remove":
		return "D"
	}
	return "E"
}

// auditOutcome is FHIR's AuditEventOutcome: "4", a minor failure, for the
// refused attempts the trail records, "0" (success) for the rest.
func auditOutcome(action string) string {
	switch action {
	case model.ActionLoginFailed, model.ActionTokenReuse:
		return "4"
	}
	return "0"
}
