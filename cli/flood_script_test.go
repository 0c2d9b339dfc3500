package cli_test

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// floodKey names the script's floodSlot in its testscript values.
type floodKey struct{}

// floodSlot holds the connections flood opened, for unflood.
type floodSlot struct{ conns []net.Conn }

// cmdFlood opens N TCP connections to ADDR from loopback address IP
// (default 127.0.0.1) and holds them open, sending nothing, as a hostile
// client exhausting connections would. It prints how many connected;
// unflood, or the end of the script, closes them.
//
//	flood [-from IP] N ADDR
func cmdFlood(ts *testscript.TestScript, neg bool, args []string) {
	from := "127.0.0.1"
	if len(args) >= 2 && args[0] == "-from" {
		from, args = args[1], args[2:]
	}
	if neg || len(args) != 2 {
		ts.Fatalf("usage: flood [-from IP] N ADDR")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 {
		ts.Fatalf("flood: bad N %q", args[0])
	}
	slot := ts.Value(floodKey{}).(*floodSlot)
	if len(slot.conns) == 0 {
		ts.Defer(func() { closeFlood(slot) })
	}
	dialer := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	connected := 0
	for range n {
		c, err := dialer.Dial("tcp", args[1])
		if err != nil {
			ts.Fatalf("flood: after %d connections: %v", connected, err)
		}
		slot.conns = append(slot.conns, c)
		connected++
	}
	fmt.Fprintf(ts.Stdout(), "flood: %d connected\n", connected)
}

// cmdUnflood closes every connection flood opened.
//
//	unflood
func cmdUnflood(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: unflood")
	}
	closeFlood(ts.Value(floodKey{}).(*floodSlot))
}

func closeFlood(slot *floodSlot) {
	for _, c := range slot.conns {
		c.Close()
	}
	slot.conns = nil
}

// cmdWaitLog waits up to 10 s for a line of $WORK/serve.log to match the
// regular expression PATTERN, for what the server does in its own time
// (accepting a flood it is still working through, say).
//
//	waitlog PATTERN
func cmdWaitLog(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitlog PATTERN")
	}
	re, err := regexp.Compile("(?m)" + args[0])
	ts.Check(err)
	deadline := time.Now().Add(10 * time.Second)
	for {
		log, err := os.ReadFile(ts.MkAbs("serve.log"))
		ts.Check(err)
		if re.Match(log) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitlog: no line matches %q in serve.log after 10 s:\n%s", args[0], log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
