package sshapp

import (
	"net"
	"sync"
)

// connections tracks every connection the front door admitted, from
// accept to close, so that Shutdown can wait for them to end and close the
// rest itself. charmbracelet/ssh's own Shutdown is not used: it starts
// waiting on its connection WaitGroup while a connection that is just
// finishing its handshake may still Add to it (a data race, and a
// connection Shutdown never waits for or closes).
type connections struct {
	mu      sync.Mutex
	open    map[net.Conn]struct{}
	closing bool
	drained chan struct{} // made by beginClose, closed once open is empty
}

func newConnections() *connections {
	return &connections{open: make(map[net.Conn]struct{})}
}

// add tracks c; false means the server is closing and c must not be
// served.
func (cs *connections) add(c net.Conn) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closing {
		return false
	}
	cs.open[c] = struct{}{}
	return true
}

// remove forgets c; removing it again is harmless.
func (cs *connections) remove(c net.Conn) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	delete(cs.open, c)
	if cs.closing && len(cs.open) == 0 {
		cs.closeDrained()
	}
}

// beginClose refuses new connections from now on and returns a channel
// closed once every tracked connection has ended.
func (cs *connections) beginClose() <-chan struct{} {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if !cs.closing {
		cs.closing = true
		cs.drained = make(chan struct{})
		if len(cs.open) == 0 {
			cs.closeDrained()
		}
	}
	return cs.drained
}

func (cs *connections) closeDrained() {
	select {
	case <-cs.drained:
	default:
		close(cs.drained)
	}
}

// isClosing reports whether beginClose was called.
func (cs *connections) isClosing() bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.closing
}

// closeAll closes every tracked connection, authenticated or not.
func (cs *connections) closeAll() {
	cs.mu.Lock()
	conns := make([]net.Conn, 0, len(cs.open))
	for c := range cs.open {
		conns = append(conns, c)
	}
	cs.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}
