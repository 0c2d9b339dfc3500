package model

import "time"

// AccessLogEntry is one event of a person's access log: someone other
// than the person read, listed, searched, exported, changed or deleted
// one of their records or their account. It shows the patient only what
// concerns them: of a list that served several patients' records, their
// own records alone, and none of the request's filters.
type AccessLogEntry struct {
	// ID is the audit event's id.
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	// Actor is who did it; nil when nobody was signed in (a command run
	// on the server, such as a population export).
	Actor *AccessLogActor `json:"actor"`
	// Entity and EntityID are what the event was about: the record read
	// or changed, or the person's account. EntityID is nil for a list, a
	// search and a population export.
	Entity   string  `json:"entity"`
	EntityID *string `json:"entity_id"`
	// RecordIDs are the person's records among those a list or search
	// served, in the order served; empty for other events.
	RecordIDs []string `json:"record_ids"`
	// Via is how the request arrived (ViaAPI, ViaSSH, ViaCLI).
	Via string `json:"via"`
	// Source is where from, for display: the client address, "SSH from"
	// it for the terminal UI over SSH, or "server command line".
	Source string `json:"source"`
	// IP is the client address the event recorded.
	IP string `json:"ip"`
}

// AccessLogActor is who an access log entry names: the account's id,
// full name and role ("staff" or "patient"). Staff names are shown to
// patients: knowing who looked is the point of the log.
type AccessLogActor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// AccessSource is the Source of an event that arrived via from ip.
func AccessSource(via, ip string) string {
	switch via {
	case ViaSSH:
		return "SSH from " + ip
	case ViaCLI:
		return "server command line"
	}
	return ip
}
