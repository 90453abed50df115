package clock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

var start = time.Date(2025, 2, 28, 12, 0, 0, 0, time.UTC)

// recorder collects what timers saw, safe for the clock's goroutines.
type recorder struct {
	mu    sync.Mutex
	names []string
	times []time.Time
}

func (r *recorder) add(c *clock.Clock, name string) func() {
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.names = append(r.names, name)
		r.times = append(r.times, c.Now())
	}
}

func (r *recorder) got() ([]string, []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.names...), append([]time.Time(nil), r.times...)
}

// eachManual runs test on every kind of manual clock that shows start: a base, a tenant of a
// base, and a tenant that was advanced on a base that was advanced too, with a busy sibling, so
// that every schedule also goes through the conversion to base time.
func eachManual(t *testing.T, test func(t *testing.T, c *clock.Clock)) {
	t.Helper()
	kinds := map[string]func() *clock.Clock{
		"base":   func() *clock.Clock { return clock.NewManual(start) },
		"tenant": func() *clock.Clock { return clock.NewManual(start).Tenant("a") },
		"moved tenant": func() *clock.Clock {
			base := clock.NewManual(start.Add(-3 * time.Hour))
			base.Advance(time.Hour)
			sibling := base.Tenant("b")
			sibling.AfterFunc(time.Hour, func() {})
			sibling.AfterFunc(-time.Hour, func() {})
			c := base.Tenant("a")
			c.Advance(2 * time.Hour)
			return c
		},
	}
	for name, newClock := range kinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			require.Equal(t, start, c.Now())
			test(t, c)
		})
	}
}

func TestManualNowMovesOnlyOnAdvance(t *testing.T) {
	t.Parallel()
	c := clock.NewManual(start)
	require.Equal(t, start, c.Now())
	time.Sleep(5 * time.Millisecond)
	require.Equal(t, start, c.Now())
	require.Equal(t, start.Add(90*time.Second), c.Advance(90*time.Second))
	require.Equal(t, 90*time.Second, c.Offset())
	require.Equal(t, start.Add(90*time.Second), c.Advance(-time.Hour), "a negative advance does nothing")
}

func TestAdvanceFiresInDueOrder(t *testing.T) {
	t.Parallel()
	eachManual(t, func(t *testing.T, c *clock.Clock) {
		var r recorder
		c.AfterFunc(3*time.Second, r.add(c, "c"))
		c.AfterFunc(1*time.Second, r.add(c, "a"))
		c.At(start.Add(2*time.Second), r.add(c, "b"))
		c.AfterFunc(2*time.Second, r.add(c, "b2")) // same instant as b, scheduled later: after b
		c.AfterFunc(10*time.Second, r.add(c, "late"))

		c.Advance(500 * time.Millisecond)
		names, _ := r.got()
		require.Empty(t, names)

		c.Advance(2500 * time.Millisecond)
		names, times := r.got()
		require.Equal(t, []string{"a", "b", "b2", "c"}, names)
		require.Equal(t, []time.Time{start.Add(time.Second), start.Add(2 * time.Second), start.Add(2 * time.Second), start.Add(3 * time.Second)}, times,
			"each timer sees the time it fell due")
		require.Equal(t, start.Add(3*time.Second), c.Now())
	})
}

func TestTimersScheduledByTimers(t *testing.T) {
	t.Parallel()
	eachManual(t, func(t *testing.T, c *clock.Clock) {
		var r recorder
		var chain func(n int) func()
		chain = func(n int) func() {
			return func() {
				r.add(c, string(rune('0'+n)))()
				if n < 5 {
					c.AfterFunc(time.Second, chain(n+1))
				}
			}
		}
		c.AfterFunc(time.Second, chain(1))

		c.Advance(3 * time.Second)
		names, times := r.got()
		require.Equal(t, []string{"1", "2", "3"}, names, "timers scheduled by timers fire within the same advance")
		require.Equal(t, []time.Time{start.Add(1 * time.Second), start.Add(2 * time.Second), start.Add(3 * time.Second)}, times)

		c.Advance(time.Hour)
		names, _ = r.got()
		require.Equal(t, []string{"1", "2", "3", "4", "5"}, names)
		require.Equal(t, start.Add(time.Hour+3*time.Second), c.Now())
	})
}

func TestStop(t *testing.T) {
	t.Parallel()
	eachManual(t, func(t *testing.T, c *clock.Clock) {
		var r recorder
		a := c.AfterFunc(time.Second, r.add(c, "a"))
		b := c.AfterFunc(2*time.Second, r.add(c, "b"))
		require.True(t, a.Stop())
		require.False(t, a.Stop(), "second Stop reports it was already stopped")
		c.Advance(5 * time.Second)
		names, _ := r.got()
		require.Equal(t, []string{"b"}, names)
		require.False(t, b.Stop(), "Stop after firing reports false")
	})
}

func TestStopFromAnotherTimer(t *testing.T) {
	t.Parallel()
	eachManual(t, func(t *testing.T, c *clock.Clock) {
		var r recorder
		var victim *clock.Timer
		c.AfterFunc(time.Second, func() { require.True(t, victim.Stop()) })
		victim = c.AfterFunc(2*time.Second, r.add(c, "victim"))
		c.Advance(time.Minute)
		names, _ := r.got()
		require.Empty(t, names)
	})
}

func TestAtUsesAbsoluteTime(t *testing.T) {
	t.Parallel()
	eachManual(t, func(t *testing.T, c *clock.Clock) {
		var r recorder
		c.Advance(time.Minute)
		c.At(start.Add(90*time.Second), r.add(c, "at"))
		c.Advance(29 * time.Second)
		names, _ := r.got()
		require.Empty(t, names)
		c.Advance(time.Second)
		names, times := r.got()
		require.Equal(t, []string{"at"}, names)
		require.Equal(t, []time.Time{start.Add(90 * time.Second)}, times)
	})
}

func TestManualOverdueTimerFiresWithoutAdvance(t *testing.T) {
	t.Parallel()
	eachManual(t, func(t *testing.T, c *clock.Clock) {
		fired := make(chan time.Time, 2)
		c.At(start.Add(-time.Second), func() { fired <- c.Now() })
		c.AfterFunc(0, func() { fired <- c.Now() })
		for range 2 {
			select {
			case at := <-fired:
				require.Equal(t, start, at)
			case <-time.After(5 * time.Second):
				t.Fatal("an overdue timer on a manual clock did not fire")
			}
		}
	})
}

func TestConcurrentAdvanceAddsUp(t *testing.T) {
	t.Parallel()
	eachManual(t, func(t *testing.T, c *clock.Clock) {
		var count sync.WaitGroup
		var mu sync.Mutex
		fired := 0
		for i := range 100 {
			count.Add(1)
			c.AfterFunc(time.Duration(i+1)*time.Second, func() {
				mu.Lock()
				fired++
				mu.Unlock()
				count.Done()
			})
		}
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() { c.Advance(10 * time.Second) })
		}
		wg.Wait()
		count.Wait()
		require.Equal(t, start.Add(100*time.Second), c.Now())
		mu.Lock()
		require.Equal(t, 100, fired)
		mu.Unlock()
	})
}

func TestRealClockFiresWithoutAdvance(t *testing.T) {
	t.Parallel()
	c := clock.NewReal()
	defer c.Close()
	before := time.Now()
	require.WithinDuration(t, before, c.Now(), time.Second)
	fired := make(chan struct{})
	c.AfterFunc(20*time.Millisecond, func() { close(fired) })
	select {
	case <-fired:
		require.GreaterOrEqual(t, time.Since(before), 20*time.Millisecond)
	case <-time.After(5 * time.Second):
		t.Fatal("real clock timer did not fire")
	}
}

func TestRealClockAdvance(t *testing.T) {
	t.Parallel()
	c := clock.NewReal()
	defer c.Close()
	fired := make(chan struct{})
	c.AfterFunc(time.Hour, func() { close(fired) })
	now := c.Advance(time.Hour)
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("advancing a real clock did not fire the due timer")
	}
	require.WithinDuration(t, time.Now().Add(time.Hour), now, time.Second)
	require.Equal(t, time.Hour, c.Offset())
	require.WithinDuration(t, time.Now().Add(time.Hour), c.Now(), time.Second, "a real clock keeps running from the advanced time")
}

func TestRealClockCloseStopsFiring(t *testing.T) {
	t.Parallel()
	c := clock.NewReal()
	c.Close()
	c.Close() // idempotent
	fired := make(chan struct{}, 1)
	c.AfterFunc(10*time.Millisecond, func() { fired <- struct{}{} })
	select {
	case <-fired:
		t.Fatal("a closed real clock fired a timer")
	case <-time.After(100 * time.Millisecond):
	}
	c.Advance(time.Second)
	select {
	case <-fired:
	default:
		t.Fatal("Advance on a closed clock must still fire due timers")
	}
}
