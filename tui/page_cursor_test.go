package tui_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/anavara/anavara/tui/client"
)

// A cursor the server no longer opens (its keys were rotated, say) sends
// the list back to its first page rather than leaving an error over a
// stale page. A proxy between the terminal UI and the real server spoils
// the cursors of the requests while told to, so that the server answers
// them 400.
func TestPagingFallsBackToTheFirstPageWhenACursorIsRefused(t *testing.T) {
	e := newEnv(t)
	target, err := url.Parse(e.url)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(target)
	var spoil atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); spoil.Load() && q.Has("cursor") {
			q.Set("cursor", "bm90LWEtY3Vyc29y")
			r.URL.RawQuery = q.Encode()
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	e.url = proxy.URL
	ann := e.patient("ann@example.org", "Ann", "Smith")
	for i := 1; i <= 45; i++ {
		ann.record(t, client.RecordInput{PatientName: name(i)})
	}
	d := signedIn(t, ann, 80, 40)
	d.sees("page 1 of 3", name(45))
	d.typ("]")
	d.sees("page 2 of 3", name(25))
	spoil.Store(true)
	d.typ("r")
	d.sees("page 1 of 3", name(45), name(26))
	d.misses(name(25))
}
