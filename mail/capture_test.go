package mail_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/anavara/anavara/mail"
)

func TestCaptureWaitForFromAnotherGoroutine(t *testing.T) {
	c := mail.NewCapture()

	// Nothing has been sent yet, so WaitFor must block rather than return.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if m, err := c.WaitFor(ctx, "zoe@example.org"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitFor on an empty Capture = %+v, %v; want DeadlineExceeded", m, err)
	}

	want := mail.Message{To: "zoe@example.org", Subject: "Code", Body: "493120"}
	go func() {
		// A message to someone else must not satisfy the wait.
		c.Send(context.Background(), mail.Message{To: "eve@example.org", Subject: "Code", Body: "000000"})
		c.Send(context.Background(), want)
	}()

	ctx, cancel = context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got, err := c.WaitFor(ctx, "zoe@example.org")
	if err != nil {
		t.Fatalf("WaitFor: %v", err)
	}
	if got != want {
		t.Errorf("WaitFor = %+v, want %+v", got, want)
	}
}

func TestCaptureWaitForCancel(t *testing.T) {
	c := mail.NewCapture()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := c.WaitFor(ctx, "zoe@example.org")
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("WaitFor error = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitFor ignored cancellation")
	}
}

func TestCaptureWaitForReadsInOrder(t *testing.T) {
	c := mail.NewCapture()
	ctx := t.Context()
	first := mail.Message{To: "zoe@example.org", Subject: "Code", Body: "111111"}
	second := mail.Message{To: "zoe@example.org", Subject: "Code", Body: "222222"}
	for _, m := range []mail.Message{first, second} {
		if err := c.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}

	// Messages sent before WaitFor is called are not missed, and each
	// WaitFor returns the next one.
	for _, want := range []mail.Message{first, second} {
		got, err := c.WaitFor(ctx, "zoe@example.org")
		if err != nil || got != want {
			t.Errorf("WaitFor = %+v, %v; want %+v", got, err, want)
		}
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if m, err := c.WaitFor(short, "zoe@example.org"); err == nil {
		t.Errorf("third WaitFor returned %+v, want it to wait for a new message", m)
	}

	if last, ok := c.Last("zoe@example.org"); !ok || last != second {
		t.Errorf("Last = %+v, %v; want %+v", last, ok, second)
	}
	if _, ok := c.Last("eve@example.org"); ok {
		t.Error("Last found a message for an address nothing was sent to")
	}
	if got := c.Messages(); len(got) != 2 || got[0] != first || got[1] != second {
		t.Errorf("Messages = %+v, want [%+v %+v]", got, first, second)
	}
}

func TestCaptureConcurrent(t *testing.T) {
	c := mail.NewCapture()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		to := fmt.Sprintf("user%d@example.org", i)
		wg.Go(func() {
			m, err := c.WaitFor(ctx, to)
			if err != nil || m.To != to {
				t.Errorf("WaitFor(%s) = %+v, %v", to, m, err)
			}
		})
		wg.Go(func() {
			if err := c.Send(ctx, mail.Message{To: to, Subject: "Code", Body: "x"}); err != nil {
				t.Errorf("Send: %v", err)
			}
		})
	}
	wg.Wait()
	if got := len(c.Messages()); got != n {
		t.Errorf("captured %d messages, want %d", got, n)
	}
}

func TestCaptureSendErrors(t *testing.T) {
	c := mail.NewCapture()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.Send(ctx, mail.Message{To: "zoe@example.org"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with cancelled ctx = %v, want context.Canceled", err)
	}
	if err := c.Send(t.Context(), mail.Message{To: "zoe@example.org", Subject: "a\r\nBcc: eve@example.org"}); !errors.Is(err, mail.ErrInvalidHeader) {
		t.Errorf("Send with injected header = %v, want ErrInvalidHeader", err)
	}
	if got := c.Messages(); len(got) != 0 {
		t.Errorf("rejected messages were captured: %+v", got)
	}
}
