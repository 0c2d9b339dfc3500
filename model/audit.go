package model

import (
	"encoding/json"
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
	Page          int        `json:"page"`
	PageSize      int        `json:"page_size"`
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
)

// Audit entities.
const (
	EntityUser   = "user"
	EntityRecord = "medical_record"
	EntitySSHKey = "ssh_key"
)
