package model

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// AuditEvent records one access to or change of protected data.
type AuditEvent struct {
	ID       string    `json:"id"`
	At       time.Time `json:"at"`
	ActorID  *string   `json:"actor_id"`
	Action   string    `json:"action"`
	Entity   string    `json:"entity"`
	EntityID *string   `json:"entity_id"`
	IP       string    `json:"ip"`
	// Detail is a JSON object describing the request further, for the
	// events of reads that served several records (a RecordListDetail);
	// nil for the rest. It never holds free text a caller typed.
	Detail json.RawMessage `json:"detail,omitempty"`
	// RecordIDs are the records a list or search served, in the order
	// served; the trail finds the event by any of them (db.AuditFilter's
	// EntityID).
	RecordIDs []string `json:"record_ids,omitempty"`
	// SubjectIDs are the accounts whose data the event concerns, which
	// find it in their access log (db.AccessLogFilter). For an event with
	// RecordIDs it runs parallel to them: the owner of each record served.
	// Otherwise it holds the one account concerned: the owner of the
	// record read or changed, or the account itself. Empty for the events
	// of signing in and out, which concern the actor alone.
	SubjectIDs []string `json:"subject_ids,omitempty"`
	// Via is how the request arrived: ViaAPI, ViaSSH (the terminal UI
	// served over SSH, which calls the API for its user) or ViaCLI (a
	// command run on the server host against the database).
	Via string `json:"via"`
	// TokenID is the API token that authenticated the request the event
	// records; nil for a session, the command line, or nobody. An event
	// with one is hashed with the chain's encoding v2 (audit/chain).
	TokenID *string `json:"token_id,omitempty"`

	// Seq is the event's place in the trail's hash chain, 1 for the first
	// event, one more for each after it: the single total order in which
	// events were appended, whatever their times (package audit/chain).
	Seq int64 `json:"seq"`
	// PrevHash is the Hash of event Seq-1, in lower-case hex; 64 zeros for
	// the first event.
	PrevHash string `json:"prev_hash"`
	// Hash is SHA-256 over the event's canonical encoding and PrevHash
	// (chain.Hash), in lower-case hex. A store fills Seq, PrevHash and
	// Hash as it appends the event; whatever an event passed to it holds
	// there is ignored.
	Hash string `json:"hash"`
}

// Ways a request reaches Anavara (AuditEvent.Via).
const (
	ViaAPI = "api"
	ViaSSH = "ssh"
	ViaCLI = "cli"
)

// AuditHead is the newest link of the audit trail's hash chain: what an
// outside system stores to anchor the chain, so that a later rewrite of
// the whole trail from some event on is caught by comparing heads.
type AuditHead struct {
	// Count is the number of events in the chain (the head's Seq).
	Count int64 `json:"count"`
	// HeadHash is the head event's Hash; 64 zeros for an empty trail.
	HeadHash string `json:"head_hash"`
	// At is the head event's time; nil for an empty trail.
	At *time.Time `json:"at"`
}

// RecordListDetail is the Detail of a record.list or record.search event:
// the request's filters, with free text reduced to its shape, and what the
// page served. Search terms and doctor names may name patients, so the
// trail keeps only how many words and characters they had.
type RecordListDetail struct {
	Search        *TextShape `json:"search,omitempty"`
	Doctor        *TextShape `json:"doctor,omitempty"`
	UserID        string     `json:"user_id,omitempty"`
	TreatedAfter  *Date      `json:"date_of_treatment_after,omitempty"`
	TreatedBefore *Date      `json:"date_of_treatment_before,omitempty"`
	Ordering      string     `json:"ordering,omitempty"`
	// Page is the page number; absent from a page by cursor (Paginate).
	Page int `json:"page,omitempty"`
	// Paginate is PaginateCursor for a page by cursor, absent otherwise.
	Paginate string `json:"paginate,omitempty"`
	PageSize int    `json:"page_size"`
	// Count is the number of records matching the filters, of which the
	// page served len(AuditEvent.RecordIDs).
	Count int `json:"count"`
}

// TextShape is what the audit trail keeps of a free-text filter: its
// length in characters and its number of words, never its content.
type TextShape struct {
	Length int `json:"length"`
	Words  int `json:"words"`
}

// Audit actions.
const (
	ActionSignup         = "auth.signup"
	ActionLogin          = "auth.login"
	ActionLoginFailed    = "auth.login_failed"
	ActionLogout         = "auth.logout"
	ActionResetRequested = "auth.password_reset_requested"
	ActionPasswordReset  = "auth.password_reset"
	ActionPasswordChange = "auth.password_change"
	ActionTokenReuse     = "auth.refresh_token_reuse"
	// ActionTokenGrace is a rotated refresh token presented again within
	// the grace window by the client that rotated it, answered with a new
	// pair instead of revoking the family.
	ActionTokenGrace   = "auth.refresh_token_grace"
	ActionUserCreate   = "user.create"
	ActionUserUpdate   = "user.update"
	ActionRecordCreate = "record.create"
	ActionRecordRead   = "record.read"
	// ActionRecordList is a page of records served without a search;
	// ActionRecordSearch one served by a search. Both name the records
	// served (AuditEvent.RecordIDs).
	ActionRecordList   = "record.list"
	ActionRecordSearch = "record.search"
	ActionRecordUpdate = "record.update"
	ActionRecordDelete = "record.delete"
	ActionSSHKeyAdd    = "ssh_key.add"
	ActionSSHKeyRemove = "ssh_key.remove"
	ActionSSHLogin     = "auth.ssh_login"
	// ActionSSHToken is a short-lived access token minted for the owner
	// of an SSH key (ssh host token); the entity is the key.
	ActionSSHToken = "auth.ssh_token"
	// ActionUserExport is one person's data exported (FHIR or CSV), by
	// the person or by staff.
	ActionUserExport = "user.export"
	// ActionAccessLogRead is a person's access log read, by the person
	// or by staff.
	ActionAccessLogRead = "user.access_log"
	// ActionPopulationExport is the whole database exported (the export
	// command or GET /api/export): it concerns every patient, and shows
	// in every access log.
	ActionPopulationExport = "export.population"
	// ActionTokenCreate and ActionTokenRevoke are an API token created
	// and revoked, by its owner, by staff, or (created) on the command
	// line.
	ActionTokenCreate = "token.create"
	ActionTokenRevoke = "token.revoke"
)

// AuditActions lists every audit action, in the order declared: the
// values GET /api/audit-events accepts in action, and the enum of
// openapi.yaml's AuditAction (both checked by tests: a new action
// constant missing here fails them).
func AuditActions() []string {
	return []string{
		ActionSignup, ActionLogin, ActionLoginFailed, ActionLogout, ActionResetRequested, ActionPasswordReset,
		ActionPasswordChange, ActionTokenReuse, ActionTokenGrace, ActionUserCreate, ActionUserUpdate,
		ActionRecordCreate, ActionRecordRead, ActionRecordList, ActionRecordSearch, ActionRecordUpdate,
		ActionRecordDelete, ActionSSHKeyAdd, ActionSSHKeyRemove, ActionSSHLogin, ActionSSHToken, ActionUserExport,
		ActionAccessLogRead, ActionPopulationExport, ActionTokenCreate, ActionTokenRevoke,
	}
}

// ValidAuditAction reports whether s is an audit action.
func ValidAuditAction(s string) bool { return slices.Contains(AuditActions(), s) }

// MsgInvalidAuditAction is the 400 for an action filter that names no
// action: it lists them.
func MsgInvalidAuditAction() string {
	return "Must be one of " + strings.Join(AuditActions(), ", ") + "."
}

// Audit entities.
const (
	EntityUser   = "user"
	EntityRecord = "medical_record"
	EntitySSHKey = "ssh_key"
	// EntityAPIToken is a personal access token.
	EntityAPIToken = "api_token"
	// EntityDatabase is the subject of a population export.
	EntityDatabase = "database"
)
