package postgres

import "sync/atomic"

// usersVersion is what Store.UsersVersion reports, kept in one word so that
// one load answers both of its questions at the same moment: the count of
// changes to users (in steps of two) and, in the lowest bit, whether the
// listener is listening (listener.go). The zero value counts nothing and is
// not listening.
type usersVersion struct {
	word atomic.Uint64
}

// listeningBit is set while the listener is listening.
const listeningBit = 1

// load returns the version and whether user rows may be cached under it.
func (u *usersVersion) load() (version uint64, cacheable bool) {
	w := u.word.Load()
	return w >> 1, w&listeningBit != 0
}

// bump moves the version on: a user row read before is stale.
func (u *usersVersion) bump() { u.word.Add(2) }

// setListening records whether the listener is listening, and moves the
// version on with it in the same step. Going away, since changes are
// missed from the moment the connection broke, which is earlier than the
// moment the listener notices; coming back, since anything may have
// changed while it was away.
func (u *usersVersion) setListening(listening bool) {
	for {
		old := u.word.Load()
		w := (old + 2) &^ listeningBit
		if listening {
			w |= listeningBit
		}
		if u.word.CompareAndSwap(old, w) {
			return
		}
	}
}
