package dashboard

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// moves returns n transitions of the tenant's request, a second apart from at.
func moves(tenant, id string, n int, at time.Time) []transition {
	var ts []transition
	for i := range n {
		ts = append(ts, transition{tenant: tenant, requestID: id, from: mockserver.StateSubmitted, to: mockserver.StateInProgress, reason: strconv.Itoa(i), at: at.Add(time.Duration(i) * time.Second)})
	}
	return ts
}

func reasons(ts []transition) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.reason)
	}
	return out
}

func TestHistoryDropsTheOldestPastItsBound(t *testing.T) {
	t.Parallel()
	h := newHistory(3)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h.add(moves("a", "pr", 2, at))
	require.Equal(t, []string{"0", "1"}, reasons(h.of("a", "pr")))
	for _, m := range moves("a", "pr", 5, at)[2:] {
		h.add([]transition{m})
	}
	require.Equal(t, []string{"2", "3", "4"}, reasons(h.of("a", "pr")), "the oldest went first, the order kept")
	require.Len(t, h.ring, 3)
	require.Equal(t, 3, cap(h.ring), "the memory held is the bound's")
}

func TestHistoryKeepsTenantsApart(t *testing.T) {
	t.Parallel()
	h := newHistory(MaxTransitions)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h.add(moves("a", "pr", 2, at))
	h.add(moves("b", "pr", 1, at)) // the same id in another tenant
	h.add(moves("a", "other", 1, at))
	require.Len(t, h.of("a", "pr"), 2)
	require.Len(t, h.of("b", "pr"), 1)
	require.Empty(t, h.of("c", "pr"))
}

func TestHistoryForgetsATenant(t *testing.T) {
	t.Parallel()
	h := newHistory(4)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h.add(moves("a", "pr", 2, at))
	h.add(moves("b", "pr", 3, at)) // wraps: a's first is gone
	h.forget("a")
	h.forget("a") // twice changes nothing
	require.Empty(t, h.of("a", "pr"))
	require.Equal(t, []string{"0", "1", "2"}, reasons(h.of("b", "pr")))
	h.add(moves("c", "pr", 1, at)) // the room a had is another's
	require.Equal(t, []string{"0", "1", "2"}, reasons(h.of("b", "pr")))
	require.Len(t, h.of("c", "pr"), 1)
	require.NotContains(t, h.tenants, "a")
}

// TestRecordingAPutCostsAtMostItsEntries is not parallel: testing.AllocsPerRun refuses to run
// in a parallel test.
func TestRecordingAPutCostsAtMostItsEntries(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	stored := &mockserver.PaymentRequest{AccountID: "a/acct", PaymentRequestID: "pr", State: mockserver.StateSubmitted, CreatedAt: at, UpdatedAt: at}
	opened, err := stored.Transition(mockserver.StateInProgress, "", at)
	require.NoError(t, err)
	var r record
	require.Zero(t, testing.AllocsPerRun(100, func() {
		r.read(stored)
		r.put(stored) // the final authorize, an update: no change of state
	}))
	require.Empty(t, r.moves)
	r = record{}
	require.Zero(t, testing.AllocsPerRun(100, func() { r.put(opened) }), "a request not read first is being created")
	require.Empty(t, r.moves)
	require.LessOrEqual(t, testing.AllocsPerRun(100, func() {
		r = record{}
		r.read(stored)
		r.put(opened)
	}), 1.0, "the entry alone")
	require.Equal(t, []transition{{tenant: "a", requestID: "pr", from: mockserver.StateSubmitted, to: mockserver.StateInProgress, at: at}}, r.moves)

	approved, err := opened.Transition(mockserver.StateCompleted, "", at)
	require.NoError(t, err)
	r = record{}
	r.read(stored)
	r.put(approved) // opened and approved in one transaction
	require.Equal(t, []transition{
		{tenant: "a", requestID: "pr", from: mockserver.StateSubmitted, to: mockserver.StateInProgress, at: at},
		{tenant: "a", requestID: "pr", from: mockserver.StateInProgress, to: mockserver.StateCompleted, at: at},
	}, r.moves)
}
