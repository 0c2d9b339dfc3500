package tui

import (
	"fmt"

	"github.com/anavara/anavara/model"
)

// The words a person's access log uses for its events: what was done to
// their data, said to them ("your") or, for staff looking at someone's
// log, about them ("their").

// accessWhat says what the event did, for the person's own log (own) or
// someone else's.
func accessWhat(e model.AccessLogEntry, own bool) string {
	your, yours := "your", "yours"
	if !own {
		your, yours = "their", "theirs"
	}
	switch e.Action {
	case model.ActionRecordRead:
		return "viewed record"
	case model.ActionRecordList:
		return fmt.Sprintf("listed records (%d of %s)", len(e.RecordIDs), yours)
	case model.ActionRecordSearch:
		return fmt.Sprintf("searched records (%d of %s)", len(e.RecordIDs), yours)
	case model.ActionRecordCreate:
		return "created record"
	case model.ActionRecordUpdate:
		return "updated record"
	case model.ActionRecordDelete:
		return "deleted record"
	case model.ActionUserExport:
		return "exported " + your + " data"
	case model.ActionAccessLogRead:
		return "viewed " + your + " access log"
	case model.ActionPopulationExport:
		return "exported the whole database"
	case model.ActionUserCreate:
		return "created " + your + " account"
	case model.ActionUserUpdate:
		return "changed " + your + " account"
	case model.ActionSSHKeyAdd:
		return "added an SSH key to " + your + " account"
	case model.ActionSSHKeyRemove:
		return "removed an SSH key from " + your + " account"
	case model.ActionTokenCreate:
		return "created an API token of " + your + " account"
	case model.ActionTokenRevoke:
		return "revoked an API token of " + your + " account"
	}
	// An action newer than this build: its name says more than nothing.
	return clean(e.Action)
}

// accessWho names who acted: "Ann Smith (staff)"; "server" when nobody
// was signed in (a command run on the server).
func accessWho(a *model.AccessLogActor) string {
	switch {
	case a == nil:
		return "server"
	case a.Name == "":
		// An account that no longer exists shows by id alone.
		return "account " + shortID(a.ID)
	case a.Role == "":
		return clean(a.Name)
	}
	return clean(a.Name) + " (" + clean(a.Role) + ")"
}

// accessRecord is the record an event concerns, by short id: the one read
// or changed, or the first of the person's records a list served (what
// it says how many; the event's details list them all); "—" for events
// about the account or the whole database.
func accessRecord(e model.AccessLogEntry) string {
	switch {
	case e.Entity == model.EntityRecord && e.EntityID != nil:
		return shortID(*e.EntityID)
	case len(e.RecordIDs) > 0:
		return shortID(e.RecordIDs[0])
	}
	return "—"
}

// accessFrom is where the event came from: the client address, "SSH from"
// it, or "server command line".
func accessFrom(e model.AccessLogEntry) string {
	if s := clean(e.Source); s != "" {
		return s
	}
	if ip := clean(e.IP); ip != "" {
		return ip
	}
	return "—"
}

// accessVia says in words how the request arrived.
func accessVia(via string) string {
	switch via {
	case model.ViaAPI:
		return "the API (the terminal UI run locally, or a script)"
	case model.ViaSSH:
		return "the terminal UI over SSH"
	case model.ViaCLI:
		return "a command run on the server"
	case "":
		return "—"
	}
	return clean(via)
}

// shortID is the first 8 characters of an id, enough to tell records
// apart on a screen.
func shortID(id string) string {
	r := []rune(clean(id))
	if len(r) <= 8 {
		return string(r)
	}
	return string(r[:8])
}
