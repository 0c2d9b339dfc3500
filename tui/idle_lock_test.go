package tui_test

import (
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/tui"
	"github.com/anavara/anavara/tui/client"
)

// TestIdleLock: after IdleLock without a key press the local UI replaces
// everything with a lock screen that shows no patient data (not even a
// screen title); keys do nothing to the screens under it; a wrong password
// keeps it locked and the account's password lifts it, back where the
// user was.
func TestIdleLock(t *testing.T) {
	e := newEnv(t)
	pat := e.patient("lena@example.org", "Lena", "Lock")
	pat.record(t, client.RecordInput{PatientName: "Lena Lock", Diagnosis: "Migraine with aura"})
	clock := testenv.NewClock(time.Now())
	d := start(t, tui.Options{Client: pat.c, SignedIn: true, IdleLock: 15 * time.Minute, Now: clock.Now}, 80, 24)
	d.sees("Migraine with aura")

	// Input keeps it open: 14 minutes, a key, 14 more.
	clock.Advance(14 * time.Minute)
	d.send(tui.IdleCheck{})
	d.sees("Migraine with aura")
	d.press(tea.KeyDown)
	clock.Advance(14 * time.Minute)
	d.send(tui.IdleCheck{})
	d.sees("Migraine with aura")

	clock.Advance(2 * time.Minute)
	d.send(tui.IdleCheck{})
	d.sees("Locked", "Press enter to unlock as lena@example.org")
	d.misses("Migraine with aura", "Lena Lock", "Records")

	// Keys meant for the records screen do nothing while locked.
	d.typ("n")
	d.misses("New record", "Migraine with aura")

	// A wrong password keeps it locked.
	d.press(tea.KeyEnter)
	d.typ("not-the-password")
	d.press(tea.KeyEnter)
	d.sees("Locked", "Wrong password.")
	d.misses("Migraine with aura")

	// The right one opens it again where the user was.
	d.typ(testPassword)
	d.press(tea.KeyEnter)
	d.misses("Locked")
	d.sees("Migraine with aura")
	// Being unlocked counts as input: no new lock right away.
	d.send(tui.IdleCheck{})
	d.misses("Locked")
}

func TestIdleLockQuitAndOff(t *testing.T) {
	e := newEnv(t)
	pat := e.patient("quinn@example.org", "Quinn", "Quit")
	clock := testenv.NewClock(time.Now())

	d := start(t, tui.Options{Client: pat.c, SignedIn: true, IdleLock: time.Minute, Now: clock.Now}, 80, 24)
	clock.Advance(time.Hour)
	d.send(tui.IdleCheck{})
	d.sees("Locked")
	d.typ("q")
	if !d.quit {
		t.Fatal("q on the lock screen did not quit")
	}

	// IdleLock zero never locks; neither does the sign-in screen lock.
	off := start(t, tui.Options{Client: pat.c, SignedIn: true, Now: clock.Now}, 80, 24)
	clock.Advance(24 * time.Hour)
	off.send(tui.IdleCheck{})
	off.misses("Locked")
	signIn := start(t, tui.Options{Client: e.client(), IdleLock: time.Minute, Now: clock.Now}, 80, 24)
	clock.Advance(time.Hour)
	signIn.send(tui.IdleCheck{})
	signIn.misses("Locked")
	signIn.sees("Sign in")
}
