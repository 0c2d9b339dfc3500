package netguard

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"
)

// serve accepts on l until it closes, holding every connection open, and
// reports each accepted connection on the returned channel.
func serve(t *testing.T, l *Listener) <-chan net.Conn {
	t.Helper()
	accepted := make(chan net.Conn, 64)
	go func() {
		defer close(accepted)
		for {
			c, err := l.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("Accept: %v, want only net.ErrClosed", err)
				}
				return
			}
			accepted <- c
		}
	}()
	return accepted
}

func listen(t *testing.T, opts Options) *Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Wrap(ln, opts)
	t.Cleanup(func() { l.Close() })
	return l
}

// dialFrom connects to l from the loopback address src (any of 127/8 works
// on Linux), so tests can play several clients.
func dialFrom(t *testing.T, l *Listener, src string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("dial from %s: %v", src, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByServer reports whether the server closed c (a read sees EOF or a
// reset) within 300 ms; false means c is still held open.
func closedByServer(t *testing.T, c net.Conn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return err == io.EOF || errors.Is(err, syscall.ECONNRESET)
}

func receive(t *testing.T, accepted <-chan net.Conn) net.Conn {
	t.Helper()
	select {
	case c := <-accepted:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no connection accepted within 5 s")
		return nil
	}
}

func TestPerAddressCap(t *testing.T) {
	l := listen(t, Options{Name: "test", MaxConnsPerAddr: 2})
	accepted := serve(t, l)

	a1, a2 := dialFrom(t, l, "127.0.0.1"), dialFrom(t, l, "127.0.0.1")
	s1, _ := receive(t, accepted), receive(t, accepted)
	over := dialFrom(t, l, "127.0.0.1")
	if !closedByServer(t, over) {
		t.Fatal("third connection from one address was kept open, want it closed at once")
	}
	other := dialFrom(t, l, "127.0.0.2")
	receive(t, accepted)
	if closedByServer(t, other) {
		t.Fatal("a connection from another address was closed")
	}
	if closedByServer(t, a1) || closedByServer(t, a2) {
		t.Fatal("connections within the cap were closed")
	}
	if got := l.Stats().RefusedPerAddr; got != 1 {
		t.Fatalf("RefusedPerAddr = %d, want 1", got)
	}

	// A slot freed by the server is available again.
	s1.Close()
	waitFor(t, func() bool { return l.Open() == 2 })
	again := dialFrom(t, l, "127.0.0.1")
	receive(t, accepted)
	if closedByServer(t, again) {
		t.Fatal("connection after a slot was freed was closed")
	}
}

// TestPerAddressCapExemptsTrustedProxies: a trusted reverse proxy carries
// many clients' connections, so the per-address cap does not hold it; the
// total cap still does.
func TestPerAddressCapExemptsTrustedProxies(t *testing.T) {
	l := listen(t, Options{Name: "test", MaxConns: 5, MaxConnsPerAddr: 1,
		ExemptFromPerAddr: []netip.Prefix{netip.MustParsePrefix("127.0.0.8/30")}})
	accepted := serve(t, l)
	var proxied []net.Conn
	for range 4 {
		proxied = append(proxied, dialFrom(t, l, "127.0.0.9"))
		receive(t, accepted)
	}
	for _, c := range proxied {
		if closedByServer(t, c) {
			t.Fatal("a trusted proxy's connection was closed by the per-address cap")
		}
	}
	dialFrom(t, l, "127.0.0.5")
	receive(t, accepted)
	if over := dialFrom(t, l, "127.0.0.9"); !closedByServer(t, over) {
		t.Fatal("a trusted proxy's connection kept open past the total cap")
	}
	if got := l.Stats().RefusedTotal; got != 1 {
		t.Fatalf("RefusedTotal = %d, want 1", got)
	}
	if got := l.Stats().RefusedPerAddr; got != 0 {
		t.Fatalf("RefusedPerAddr = %d, want 0", got)
	}
	// Others are still held to one.
	l2 := listen(t, Options{Name: "test", MaxConnsPerAddr: 1,
		ExemptFromPerAddr: []netip.Prefix{netip.MustParsePrefix("127.0.0.8/30")}})
	accepted2 := serve(t, l2)
	dialFrom(t, l2, "127.0.0.5")
	receive(t, accepted2)
	if over := dialFrom(t, l2, "127.0.0.5"); !closedByServer(t, over) {
		t.Fatal("a second connection from an address that is no proxy was kept open")
	}
}

func TestTotalCap(t *testing.T) {
	l := listen(t, Options{Name: "test", MaxConns: 3})
	accepted := serve(t, l)
	var server []net.Conn
	for _, src := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		dialFrom(t, l, src)
		server = append(server, receive(t, accepted))
	}
	if over := dialFrom(t, l, "127.0.0.4"); !closedByServer(t, over) {
		t.Fatal("fourth connection kept open past a total cap of 3")
	}
	if got := l.Stats().RefusedTotal; got != 1 {
		t.Fatalf("RefusedTotal = %d, want 1", got)
	}
	// Closing a connection twice gives its slot back once.
	server[0].Close()
	server[0].Close()
	if got := l.Open(); got != 2 {
		t.Fatalf("Open after closing one connection twice = %d, want 2", got)
	}
	if c := dialFrom(t, l, "127.0.0.4"); closedByServer(t, c) {
		t.Fatal("connection refused after a slot was freed")
	}
	receive(t, accepted)
}

// TestDescriptorExhaustionIsRetried runs the process out of file
// descriptors with a connection waiting: Accept must neither fail nor
// return, and must hand over the connection once descriptors are free.
func TestDescriptorExhaustionIsRetried(t *testing.T) {
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	l := listen(t, Options{Name: "test"})
	client := dialFrom(t, l, "127.0.0.1")
	_ = client

	// Fill the descriptor table under a low limit.
	low := orig
	low.Cur = 256
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	var fillers []*os.File
	release := func() {
		for _, f := range fillers {
			f.Close()
		}
		fillers = nil
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig)
	}
	defer release()
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !errors.Is(err, syscall.EMFILE) {
				t.Fatalf("filling descriptors: %v", err)
			}
			break
		}
		fillers = append(fillers, f)
	}

	type result struct {
		c   net.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		done <- result{c, err}
	}()
	waitFor(t, func() bool { return l.Stats().AcceptErrors >= 2 })
	select {
	case r := <-done:
		t.Fatalf("Accept returned (%v, %v) while out of descriptors, want it to keep retrying", r.c, r.err)
	default:
	}
	release()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("Accept after descriptors were freed: %v", r.err)
		}
		r.c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("Accept did not return within 5 s of descriptors being freed")
	}
}

// TestCloseEndsAcceptDuringBackoff: Close must not wait out a retry pause.
func TestCloseEndsAcceptDuringBackoff(t *testing.T) {
	l := Wrap(failingListener{}, Options{Name: "test"})
	done := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		done <- err
	}()
	waitFor(t, func() bool { return l.Stats().AcceptErrors >= 3 })
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Accept still running 2 s after Close")
	}
}

// failingListener fails every accept as a full descriptor table does.
type failingListener struct{}

func (failingListener) Accept() (net.Conn, error) {
	return nil, &net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
}
func (failingListener) Close() error   { return nil }
func (failingListener) Addr() net.Addr { return &net.TCPAddr{} }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
