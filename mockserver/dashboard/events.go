package dashboard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// The event stream's timing. A stream ends by itself after streamLifetime so that no connection
// is held forever (the browser reconnects at once and reloads what it shows); a comment every
// heartbeat keeps proxies from closing it as idle and finds a client that left.
const (
	streamLifetime  = 10 * time.Minute
	heartbeat       = 15 * time.Second
	reconnectMillis = 1000
)

// events serves GET /dashboard/events, the live updates of the signed-in tenant as server-sent
// events: one "change" event, {"kind","id"}, for each journal entry, stored change and delivery
// attempt. At most MaxWatchersPerTenant streams watch one tenant; one more gets 429.
func (db *Dashboard) events(w http.ResponseWriter, r *http.Request) {
	s, err := db.session(r)
	if err == nil && s == nil {
		err = mockserver.NewError(mockserver.CodeUnauthorized, "Sign in to the dashboard first.")
	}
	if err != nil {
		db.fail(w, r, nil, err)
		return
	}
	wt, ok := db.Hub.watch(s.tenant)
	if !ok {
		db.fail(w, r, s, mockserver.NewError(mockserver.CodeRateLimited,
			fmt.Sprintf("Too many dashboards are watching; at most %d may watch one tenant.", MaxWatchersPerTenant)))
		return
	}
	defer db.Hub.unwatch(wt)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(format string, args ...any) bool {
		// The server's write timeout would cut the stream; each write moves it on, where the
		// server lets it (it does not through every wrapper, and then the browser reconnects).
		_ = rc.SetWriteDeadline(time.Now().Add(2 * heartbeat))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("retry: %d\n\n", reconnectMillis) {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	end := time.NewTimer(streamLifetime)
	defer end.Stop()
	for {
		select {
		case c, open := <-wt.ch:
			if !open {
				return // dropped: too far behind, or the hub closed
			}
			b, _ := json.Marshal(c) // a Change always encodes
			if !send("event: change\ndata: %s\n\n", b) {
				return
			}
		case <-tick.C:
			if !send(": heartbeat\n\n") {
				return
			}
		case <-end.C:
			return
		case <-r.Context().Done():
			return
		}
	}
}
