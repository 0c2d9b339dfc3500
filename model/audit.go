package model

import "time"

// AuditEvent records one access to or change of protected data.
type AuditEvent struct {
	ID       string    `json:"id"`
	At       time.Time `json:"at"`
	ActorID  *string   `json:"actor_id"`
	Action   string    `json:"action"`
	Entity   string    `json:"entity"`
	EntityID *string   `json:"entity_id"`
	IP       string    `json:"ip"`
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
