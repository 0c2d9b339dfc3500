package password

import (
	"context"
	"errors"
	"testing"
	"time"
)

var fastParams = Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func TestHasherHashesAndVerifies(t *testing.T) {
	h := NewHasher(HasherOptions{Params: fastParams, Concurrency: 1})
	hash, err := h.Hash(context.Background(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	for pw, want := range map[string]bool{"correct horse": true, "wrong horse": false} {
		ok, err := h.Verify(context.Background(), pw, hash)
		if err != nil || ok != want {
			t.Fatalf("Verify(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
}

// TestHasherBoundsConcurrency holds every slot and checks that callers
// wait, are served when a slot frees, and get ErrBusy when the queue is
// full or their wait runs out.
func TestHasherBoundsConcurrency(t *testing.T) {
	h := NewHasher(HasherOptions{Params: fastParams, Concurrency: 2, Queue: 1, Wait: time.Hour})
	ctx := context.Background()
	for range 2 {
		if err := h.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waited := make(chan error, 1)
	go func() {
		_, err := h.Hash(ctx, "queued")
		waited <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for h.Waiting() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the third caller never queued")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-waited:
		t.Fatalf("a caller ran with every slot taken (err %v)", err)
	default:
	}
	// The queue holds one: the next caller is turned away at once.
	if _, err := h.Verify(ctx, "x", "y"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Verify with a full queue: %v, want ErrBusy", err)
	}
	h.release()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("queued caller after a slot freed: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("queued caller not served within 5 s of a slot freeing")
	}
	h.release()
	if h.Waiting() != 0 || len(h.slots) != 0 {
		t.Fatalf("after everything finished: %d queued, %d slots taken", h.Waiting(), len(h.slots))
	}
}

func TestHasherWaitRunsOut(t *testing.T) {
	h := NewHasher(HasherOptions{Params: fastParams, Concurrency: 1, Wait: 20 * time.Millisecond})
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Hash(context.Background(), "late"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash after the wait ran out: %v, want ErrBusy", err)
	}
	h.release()
	if _, err := h.Hash(context.Background(), "on time"); err != nil {
		t.Fatalf("Hash with a free slot: %v", err)
	}
}
