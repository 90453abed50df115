package dashboard

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// MaxTransitions bounds the Payment Request state transitions the hub keeps for the timelines,
// all tenants together; past it the oldest go first. An entry is 104 bytes, and it keeps its
// request's id (64 bytes) alive once the request itself is gone, so the history holds at most
// about 3.4 MiB, reached only as it fills: the whole life of the latest several thousand
// Payment Requests, which is what a person looks at.
const MaxTransitions = 20_000

// transition is one change of a Payment Request's state, seen stored: at is the request's
// updated_at, on its tenant's clock.
type transition struct {
	tenant, requestID string
	from, to, reason  string
	at                time.Time
}

// knownStates and knownReasons are what a transition's states and reason are compared with, so
// that an entry outliving its request shares the package's constants instead of keeping the
// strings a store decoded.
var (
	knownStates  = []string{mockserver.StateSubmitted, mockserver.StateInProgress, mockserver.StateCompleted, mockserver.StateDeclined, mockserver.StateExpired, mockserver.StateCanceled}
	knownReasons = []string{mockserver.ReasonPartnerCanceled, mockserver.ReasonPurchaseFlowAborted, mockserver.ReasonCustomerDeclined, mockserver.ReasonInteractionExpired}
)

// canonical returns the string of known equal to s, or s when there is none.
func canonical(s string, known []string) string {
	if i := slices.Index(known, s); i >= 0 {
		return known[i]
	}
	return s
}

// history keeps the latest transitions of all tenants in a ring of at most max entries. It grows
// as it is used, so a mock nobody follows does not pay for the whole bound, and a lookup scans it
// (about half a millisecond when it holds MaxTransitions) rather than keeping an index up to date
// on every put.
type history struct {
	mu  sync.Mutex
	max int
	// ring holds the transitions oldest first from next on, wrapping around once it is full.
	ring []transition
	next int
	// tenants holds each tenant's name once, so entries do not keep alive the account ids their
	// tenant names were cut from.
	tenants map[string]string
}

// newHistory returns an empty history of at most bound transitions.
func newHistory(bound int) *history { return &history{max: bound, tenants: map[string]string{}} }

// add appends ts, overwriting the oldest entries once the ring is full.
func (h *history) add(ts []transition) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range ts {
		name, ok := h.tenants[t.tenant]
		if !ok {
			name = strings.Clone(t.tenant)
			h.tenants[name] = name
		}
		t.tenant = name
		t.from, t.to = canonical(t.from, knownStates), canonical(t.to, knownStates)
		t.reason = canonical(t.reason, knownReasons)
		if len(h.ring) < h.max {
			if len(h.ring) == cap(h.ring) {
				// Grown by hand, as append could reserve more than the bound. Until the ring is
				// full, next is 0: it holds its entries in order.
				h.ring = append(make([]transition, 0, min(h.max, max(2*len(h.ring), 64))), h.ring...)
			}
			h.ring = append(h.ring, t)
			continue
		}
		h.ring[h.next] = t
		h.next = (h.next + 1) % h.max
	}
}

// of returns the tenant's transitions of the request, oldest first.
func (h *history) of(tenant, requestID string) []transition {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []transition
	for _, part := range [][]transition{h.ring[h.next:], h.ring[:h.next]} {
		for _, t := range part {
			if t.requestID == requestID && t.tenant == tenant {
				out = append(out, t)
			}
		}
	}
	return out
}

// forget drops the tenant's transitions, making room for the others'.
func (h *history) forget(tenant string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.tenants[tenant]; !ok {
		return
	}
	delete(h.tenants, tenant)
	oldestFirst := slices.Concat(h.ring[h.next:], h.ring[:h.next])
	h.ring = slices.DeleteFunc(oldestFirst, func(t transition) bool { return t.tenant == tenant })
	h.next = 0
}
