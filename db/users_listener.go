package db

// UsersListener is implemented by a Store that hears, over a connection of
// its own, the changes other processes make to users (PostgreSQL's
// LISTEN/NOTIFY): the state of that connection, for metrics. A Store
// without it (SQLite) hears only its own process's changes.
type UsersListener interface {
	UsersListener() UsersListenerStats
}

// UsersListenerStats describes a store's listener for changes to users.
type UsersListenerStats struct {
	// Connected is whether the listener is listening now; while it is not,
	// UsersVersion reports user rows not cacheable.
	Connected bool
	// Notifications counts the announcements of changes it received.
	Notifications uint64
	// Reconnects counts the times it listened again after losing its
	// connection.
	Reconnects uint64
	// Unacknowledged counts this store's writes that changed a user and
	// stopped waiting before every listener on the database had
	// acknowledged hearing of it: a listener that connected as the change
	// was made, or one gone silent.
	Unacknowledged uint64
}
