package clock

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// held counts what a tree still holds: clocks in the scheduler's heap, and timers in the heaps
// of the base and of every tenant clock.
func held(base *Clock) (clocks, timers int) {
	base.tree.mu.Lock()
	defer base.tree.mu.Unlock()
	timers = len(base.timers)
	for _, c := range base.tree.tenants {
		timers += len(c.timers)
	}
	return len(base.tree.due), timers
}

func TestStoppedAndFiredTimersLeaveEveryHeap(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 2, 28, 12, 0, 0, 0, time.UTC)
	base := NewManual(start)
	const tenants, perTenant = 100, 1000
	clocks := make([]*Clock, tenants)
	for i := range clocks {
		clocks[i] = base.Tenant(fmt.Sprint(i))
	}

	stopped := make([]*Timer, 0, tenants*perTenant)
	for j := range perTenant {
		for _, c := range clocks {
			stopped = append(stopped, c.AfterFunc(time.Duration(j+1)*time.Second, func() { t.Error("a stopped timer fired") }))
		}
	}
	_, timers := held(base)
	require.Equal(t, tenants*perTenant, timers)
	stops, holding := 0, 0
	for _, tm := range stopped {
		if tm.Stop() {
			stops++
		}
		if tm.f != nil {
			holding++
		}
	}
	require.Equal(t, tenants*perTenant, stops)
	require.Zero(t, holding, "a stopped timer lets go of its function")
	clocksHeld, timers := held(base)
	require.Zero(t, clocksHeld, "stopping every timer empties the scheduler's heap")
	require.Zero(t, timers)

	fired := 0
	var last *Timer
	for i, c := range clocks {
		last = c.AfterFunc(time.Duration(i)*time.Millisecond, func() { fired++ })
	}
	base.Advance(time.Second)
	require.Equal(t, tenants, fired)
	require.Nil(t, last.f, "a fired timer lets go of its function")
	clocksHeld, timers = held(base)
	require.Zero(t, clocksHeld, "firing every timer empties the scheduler's heap")
	require.Zero(t, timers)
}
