package clock_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

func TestTenantIsOneClockPerID(t *testing.T) {
	t.Parallel()
	base := clock.NewManual(start)
	a := base.Tenant("a")
	require.Same(t, a, base.Tenant("a"))
	require.NotSame(t, a, base.Tenant("b"))
	require.Equal(t, 2, base.Tenants())
	require.Equal(t, start, a.Now(), "a new tenant clock shows the base's time")

	require.Panics(t, func() { a.Tenant("c") }, "tenant clocks have no tenants")
	require.Panics(t, func() { a.ForgetTenant("a") })
	require.Panics(t, func() { a.Tenants() })
	a.Close() // does nothing on a tenant clock
	require.Equal(t, start.Add(time.Second), a.Advance(time.Second))
}

func TestTenantAdvanceMovesOnlyThatTenant(t *testing.T) {
	t.Parallel()
	base := clock.NewManual(start)
	a, b := base.Tenant("a"), base.Tenant("b")
	var r recorder
	a.AfterFunc(time.Second, r.add(a, "a"))
	b.AfterFunc(time.Second, r.add(b, "b"))
	base.AfterFunc(time.Second, r.add(base, "base"))

	require.Equal(t, start.Add(2*time.Second), a.Advance(2*time.Second))
	names, times := r.got()
	require.Equal(t, []string{"a"}, names, "advancing a fires neither b's timers nor the base's")
	require.Equal(t, []time.Time{start.Add(time.Second)}, times)
	require.Equal(t, start, b.Now())
	require.Equal(t, start, base.Now())
	require.Equal(t, 2*time.Second, a.Offset())
	require.Equal(t, time.Duration(0), b.Offset())
}

func TestBaseAdvanceMovesAndFiresEveryTenantInOrder(t *testing.T) {
	t.Parallel()
	base := clock.NewManual(start)
	a, b := base.Tenant("a"), base.Tenant("b")
	b.Advance(10 * time.Second)
	var r recorder
	a.AfterFunc(3*time.Second, r.add(a, "a3"))
	b.AfterFunc(4*time.Second, r.add(b, "b4"))
	b.AfterFunc(time.Second, func() {
		r.add(b, "b1")()
		a.AfterFunc(4*time.Second, r.add(a, "a5")) // scheduled by a timer of another tenant
	})
	base.AfterFunc(2*time.Second, r.add(base, "base2"))
	b.At(start.Add(12*time.Second), r.add(b, "b2")) // same base instant as base2, scheduled later
	a.AfterFunc(time.Minute, r.add(a, "late"))

	require.Equal(t, start.Add(6*time.Second), base.Advance(6*time.Second))
	names, times := r.got()
	require.Equal(t, []string{"b1", "base2", "b2", "a3", "b4", "a5"}, names, "timers fire in base-time order across tenants")
	require.Equal(t, []time.Time{
		start.Add(11 * time.Second), start.Add(2 * time.Second), start.Add(12 * time.Second),
		start.Add(3 * time.Second), start.Add(14 * time.Second), start.Add(5 * time.Second),
	}, times, "each timer sees its own clock at the time it fell due")
	require.Equal(t, start.Add(6*time.Second), a.Now())
	require.Equal(t, start.Add(16*time.Second), b.Now())
	require.Equal(t, 16*time.Second, b.Offset(), "a tenant's offset includes the base's")
}

func TestRealClockFiresEachTenantOnTime(t *testing.T) {
	t.Parallel()
	base := clock.NewReal()
	defer base.Close()
	a, b := base.Tenant("a"), base.Tenant("b")
	b.Advance(time.Hour)
	type firing struct {
		name    string
		elapsed time.Duration
		late    bool // the tenant's clock had not reached the due time
	}
	fired := make(chan firing, 2)
	before := time.Now()
	on := func(c *clock.Clock, name string, d time.Duration) {
		due := c.Now().Add(d)
		c.At(due, func() { fired <- firing{name, time.Since(before), c.Now().Before(due)} })
	}
	on(a, "a", 50*time.Millisecond)
	on(b, "b", 20*time.Millisecond) // earlier than a's: the base's goroutine must wake for it
	var got []firing
	for range 2 {
		select {
		case f := <-fired:
			got = append(got, f)
		case <-time.After(5 * time.Second):
			t.Fatal("a tenant timer on a real clock did not fire")
		}
	}
	require.Equal(t, "b", got[0].name)
	require.GreaterOrEqual(t, got[0].elapsed, 20*time.Millisecond)
	require.Equal(t, "a", got[1].name)
	require.GreaterOrEqual(t, got[1].elapsed, 50*time.Millisecond)
	require.False(t, got[0].late || got[1].late)
	require.WithinDuration(t, time.Now().Add(time.Hour), b.Now(), time.Second)
}

func TestConcurrentAdvanceOnTenants(t *testing.T) {
	t.Parallel()
	base := clock.NewManual(start)
	const tenants, timers = 10, 100
	var fired atomic.Int64
	var wg sync.WaitGroup
	for i := range tenants {
		c := base.Tenant(fmt.Sprint(i))
		for j := range timers {
			due := start.Add(time.Duration(j+1) * time.Second)
			c.At(due, func() {
				if !c.Now().Before(due) {
					fired.Add(1)
				}
			})
		}
		for range 10 {
			wg.Go(func() { c.Advance(10 * time.Second) })
		}
	}
	for range 5 {
		wg.Go(func() { base.Advance(time.Second) })
	}
	wg.Wait()
	require.Equal(t, int64(tenants*timers), fired.Load(), "every timer fired once, at or after its due time")
	require.Equal(t, start.Add(5*time.Second), base.Now())
	for i := range tenants {
		require.Equal(t, start.Add(105*time.Second), base.Tenant(fmt.Sprint(i)).Now())
	}
}

func TestForgetTenantStopsTimers(t *testing.T) {
	t.Parallel()
	base := clock.NewManual(start)
	old := base.Tenant("a")
	old.Advance(time.Minute)
	var r recorder
	timer := old.AfterFunc(time.Second, r.add(old, "forgotten"))
	base.Tenant("b").AfterFunc(time.Second, r.add(base, "b"))

	base.ForgetTenant("a")
	base.ForgetTenant("unknown")
	require.Equal(t, 1, base.Tenants())
	require.False(t, timer.Stop(), "ForgetTenant stopped the timer already")
	old.AfterFunc(time.Second, r.add(old, "after forget"))
	old.Advance(time.Hour)
	base.Advance(time.Hour)
	names, _ := r.got()
	require.Equal(t, []string{"b"}, names)
	require.Equal(t, start.Add(2*time.Hour+time.Minute), old.Now(), "a forgotten clock still tells the time")

	fresh := base.Tenant("a")
	require.NotSame(t, old, fresh)
	require.Equal(t, base.Now(), fresh.Now(), "a tenant forgotten and met again starts at the base's time")
}

func TestCheckAdvance(t *testing.T) {
	t.Parallel()
	for d, ok := range map[time.Duration]bool{
		-time.Nanosecond:             false,
		0:                            true,
		time.Hour:                    true,
		clock.MaxAdvance:             true,
		clock.MaxAdvance + 1:         false,
		2562047 * time.Hour:          false,
		time.Duration(-1 << 63):      false,
		time.Duration(1<<63 - 1):     false,
		3*time.Hour + 30*time.Minute: true,
	} {
		err := clock.CheckAdvance(d)
		if ok {
			require.NoError(t, err, d)
		} else {
			require.ErrorContains(t, err, "cannot advance the clock by "+d.String(), d)
		}
	}
}

func TestTryAdvanceRefusesOverflow(t *testing.T) {
	t.Parallel()
	eachManual(t, func(t *testing.T, c *clock.Clock) {
		var r recorder
		c.AfterFunc(time.Hour, r.add(c, "hour"))
		now, err := c.TryAdvance(2562047 * time.Hour)
		require.ErrorContains(t, err, "at most 87600h0m0s (10 years)")
		require.Equal(t, start, now, "a refused move leaves the clock where it was")
		now, err = c.TryAdvance(time.Hour)
		require.NoError(t, err)
		require.Equal(t, start.Add(time.Hour), now, "the clock keeps working after a refused move")
		names, _ := r.got()
		require.Equal(t, []string{"hour"}, names)

		// Advance clamps instead: twice the largest Duration used to wrap the offset around.
		require.Equal(t, start.Add(time.Hour+clock.MaxAdvance), c.Advance(2562047*time.Hour))
		require.Equal(t, start.Add(time.Hour+2*clock.MaxAdvance), c.Advance(2562047*time.Hour))
		require.Equal(t, start.Add(time.Hour+2*clock.MaxAdvance+time.Minute), c.Advance(time.Minute),
			"later moves still move the clock")
	})
}

func TestMovesStopAtMaxOffset(t *testing.T) {
	t.Parallel()
	eachManual(t, func(t *testing.T, c *clock.Clock) {
		never := c.At(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), func() { t.Error("a timer beyond MaxOffset fired") })
		var err error
		for moves := 0; err == nil; moves++ {
			require.LessOrEqual(t, moves, 10, "MaxOffset holds ten moves of MaxAdvance")
			_, err = c.TryAdvance(clock.MaxAdvance)
		}
		require.ErrorContains(t, err, "may add up to at most 876000h0m0s (100 years)")

		end := c.Advance(clock.MaxAdvance) // clamped to what is left
		require.LessOrEqual(t, end.Sub(start), clock.MaxOffset)
		require.Equal(t, end, c.Advance(time.Hour), "a clock at MaxOffset stays there")
		_, err = c.TryAdvance(time.Nanosecond)
		require.Error(t, err)
		now, err := c.TryAdvance(0)
		require.NoError(t, err, "a zero move is always allowed")
		require.Equal(t, end, now)

		fired := make(chan time.Time, 1)
		c.AfterFunc(0, func() { fired <- c.Now() })
		select {
		case at := <-fired:
			require.Equal(t, end, at, "the clock still fires timers at its limit")
		case <-time.After(5 * time.Second):
			t.Fatal("a due timer did not fire on a clock at MaxOffset")
		}
		require.True(t, never.Stop())
	})
}

func BenchmarkTenantSchedule(b *testing.B) {
	base := clock.NewManual(start)
	const tenants = 1000
	clocks := make([]*clock.Clock, tenants)
	for i := range clocks {
		clocks[i] = base.Tenant(fmt.Sprint(i))
		for j := range 10 { // standing timers, so the heaps have some depth
			clocks[i].AfterFunc(time.Duration(j+1)*time.Hour, func() {})
		}
	}
	f := func() {}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		clocks[i%tenants].AfterFunc(time.Minute, f).Stop()
		i++
	}
}

// TestTimerPanicIsReported checks a panic in a tenant's timer goes to the base clock's OnPanic,
// with its stack, and the timers after it still fire: on a manual clock's move and on a real
// clock's goroutine, where it would otherwise end the process.
func TestTimerPanicIsReported(t *testing.T) {
	t.Parallel()
	for name, base := range map[string]*clock.Clock{"manual": clock.NewManual(start), "real": clock.NewReal()} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			defer base.Close()
			reported := make(chan string, 1)
			base.OnPanic(func(v any, stack []byte) {
				require.Contains(t, string(stack), "TestTimerPanicIsReported")
				reported <- fmt.Sprint(v)
			})
			tenant := base.Tenant("a")
			var after atomic.Bool
			now := tenant.Now()
			tenant.At(now.Add(time.Millisecond), func() { panic("boom") })
			tenant.At(now.Add(2*time.Millisecond), func() { after.Store(true) })
			if name == "manual" {
				tenant.Advance(time.Second)
			}
			select {
			case v := <-reported:
				require.Equal(t, "boom", v)
			case <-time.After(10 * time.Second):
				t.Fatal("the panic was not reported")
			}
			require.Eventually(t, after.Load, 10*time.Second, time.Millisecond, "the next timer fired")
		})
	}
}
