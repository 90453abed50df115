// Package clock is the one clock every expiry and retry schedule of the mock runs on.
//
// Klarna's behaviour is full of waits that a test suite cannot afford to sit through: a Payment
// Request expires after 3 hours, a network session token after 60 minutes, a failing webhook is
// retried over 21 hours. The Clock here follows real time by default, but a test (or an operator,
// through the mock's API and CLI) can move it forward at any moment; timers that fall due are then
// fired at once, in due order, so a whole schedule can be walked in milliseconds.
package clock

import (
	"container/heap"
	"sync"
	"time"
)

// Clock tells the time and runs functions when their time comes. The zero value is not usable:
// create one with NewReal or NewManual. A Clock is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	source func() time.Time // nil for a manual clock
	base   time.Time        // manual clocks: the current time before offset
	offset time.Duration    // added by Advance; what Now shows
	// target is the offset the running Advance calls move to: offset steps towards it timer by
	// timer, so a timer sees the time it fell due and timers it schedules land in due order.
	target time.Duration
	timers timerHeap
	seq    uint64 // orders timers that fall due at the same instant by creation
	wake   chan struct{}
	done   chan struct{}
	closed bool
}

// NewReal returns a clock that follows the wall clock; Advance moves it ahead of the wall clock by
// the given duration, and it keeps running from there.
func NewReal() *Clock {
	c := newClock(time.Now, time.Time{})
	go c.run()
	return c
}

// NewManual returns a clock frozen at start that moves only when Advance is called, so tests are
// fully deterministic.
func NewManual(start time.Time) *Clock {
	return newClock(nil, start)
}

func newClock(source func() time.Time, start time.Time) *Clock {
	return &Clock{
		source: source,
		base:   start,
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
}

// Now returns the clock's current time in UTC.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	return c.atOffsetLocked(c.offset)
}

// Offset reports how far Advance has moved the clock in total.
func (c *Clock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// Timer is a function scheduled on a Clock.
type Timer struct {
	c     *Clock
	due   time.Time
	seq   uint64
	f     func()
	index int // position in the heap, -1 once fired or stopped
}

// AfterFunc runs f once the clock has passed d from now. f runs in the clock's own goroutine for
// real clocks and in the goroutine that calls Advance for both kinds, so it must not block for
// long. A timer that is already due when scheduled (d <= 0) fires promptly on both kinds of clock,
// on a manual clock in a goroutine of its own, rather than waiting for the next Advance.
func (c *Clock) AfterFunc(d time.Duration, f func()) *Timer {
	c.mu.Lock()
	return c.scheduleLocked(c.nowLocked().Add(d), f)
}

// At runs f once the clock reaches t; it is AfterFunc with an absolute time. The due time is t
// exactly, even if another goroutine advances the clock meanwhile.
func (c *Clock) At(t time.Time, f func()) *Timer {
	c.mu.Lock()
	return c.scheduleLocked(t, f)
}

// scheduleLocked adds a timer due at due; it is called with c.mu held and releases it.
func (c *Clock) scheduleLocked(due time.Time, f func()) *Timer {
	t := &Timer{c: c, due: due, f: f, seq: c.seq}
	c.seq++
	heap.Push(&c.timers, t)
	first := c.timers[0] == t
	overdue := c.source == nil && !due.After(c.nowLocked())
	c.mu.Unlock()
	switch {
	case overdue:
		go c.fireDue()
	case first:
		c.poke()
	}
	return t
}

// Stop cancels the timer. It reports whether the call stopped it, false if it had already fired
// or been stopped.
func (t *Timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&t.c.timers, t.index)
	return true
}

// Advance moves the clock forward by d and fires, in due order, every timer that falls due,
// including timers scheduled by those timers within the new time. While a timer runs, Now reports
// the time it fell due (or later), so a timer that schedules another one d ahead gets it due d
// after itself, not d after the end of the advance. It returns the new time. Concurrent calls add
// up. Timers must not call Advance.
func (c *Clock) Advance(d time.Duration) time.Time {
	if d < 0 {
		d = 0
	}
	c.mu.Lock()
	if c.target < c.offset {
		c.target = c.offset
	}
	c.target += d
	c.mu.Unlock()
	for {
		c.mu.Lock()
		limit := c.atOffsetLocked(c.target)
		if len(c.timers) == 0 || c.timers[0].due.After(limit) {
			if c.offset < c.target {
				c.offset = c.target
			}
			c.mu.Unlock()
			break
		}
		t := heap.Pop(&c.timers).(*Timer)
		if now := c.nowLocked(); t.due.After(now) {
			c.offset += t.due.Sub(now)
		}
		c.mu.Unlock()
		t.f()
	}
	c.poke()
	return c.Now()
}

// atOffsetLocked is the time Now would report with the given offset.
func (c *Clock) atOffsetLocked(offset time.Duration) time.Time {
	if c.source != nil {
		return c.source().Add(offset).UTC()
	}
	return c.base.Add(offset).UTC()
}

// fireDue runs every timer whose due time has been reached, one at a time and without holding the
// lock, so a timer may schedule others or read the clock.
func (c *Clock) fireDue() {
	for {
		c.mu.Lock()
		if len(c.timers) == 0 || c.timers[0].due.After(c.nowLocked()) {
			c.mu.Unlock()
			return
		}
		t := heap.Pop(&c.timers).(*Timer)
		c.mu.Unlock()
		t.f()
	}
}

// next reports how long until the earliest timer is due, and whether there is one.
func (c *Clock) next() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return 0, false
	}
	return c.timers[0].due.Sub(c.nowLocked()), true
}

func (c *Clock) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// run fires timers as real time passes; only real clocks run it.
func (c *Clock) run() {
	idle := time.NewTimer(time.Hour)
	defer idle.Stop()
	for {
		wait, ok := c.next()
		if !ok {
			wait = time.Hour
		}
		if wait <= 0 {
			c.fireDue()
			continue
		}
		idle.Reset(wait)
		select {
		case <-c.done:
			return
		case <-c.wake:
		case <-idle.C:
			c.fireDue()
		}
	}
}

// Close stops the goroutine of a real clock. Pending timers never fire afterwards unless Advance
// is called.
func (c *Clock) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.done)
	}
}

type timerHeap []*Timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].seq < h[j].seq
	}
	return h[i].due.Before(h[j].due)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*Timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}
