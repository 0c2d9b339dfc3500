package db

// Cause is why the database cannot serve reads and writes.
type Cause int

// The causes Health reports. Each has a fixed description (String) that
// reveals nothing of the system: it is safe to answer to anyone.
const (
	// Healthy: reads and writes work.
	Healthy Cause = iota
	// CauseReadOnly: the database or its file system refuses writes.
	CauseReadOnly
	// CauseDiskFull: there is no room left for writes.
	CauseDiskFull
	// CauseCorrupt: the engine found the database damaged.
	CauseCorrupt
	// CauseIOError: writes fail at the operating system for another reason.
	CauseIOError
	// CauseUnavailable: the database does not answer in time.
	CauseUnavailable
)

// String is the cause's fixed description.
func (c Cause) String() string {
	switch c {
	case Healthy:
		return "ok"
	case CauseReadOnly:
		return "database is read-only"
	case CauseDiskFull:
		return "disk is full"
	case CauseCorrupt:
		return "database is corrupt"
	case CauseIOError:
		return "database cannot be written"
	}
	return "database is not answering"
}

// Health is what a health check found.
type Health struct {
	// Cause is Healthy when reads and writes work.
	Cause Cause
	// Err is the error behind Cause, for the log (never for clients).
	Err error
}
