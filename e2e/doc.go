// Package e2e holds end-to-end tests that build the real anavara binary,
// run `anavara serve` on a loopback port and drive `anavara tui` inside
// tmux, reading the screen with capture-pane. They skip, saying why, when
// tmux is not installed.
package e2e
