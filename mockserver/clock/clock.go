// Package clock is the one clock tree every expiry and retry schedule of the mock runs on.
//
// Klarna's behaviour is full of waits that a test suite cannot afford to sit through: a Payment
// Request expires after 3 hours, a network session token after 60 minutes, a failing webhook is
// retried over 21 hours (docs/klarna.md §6, §8). A Clock here follows real time by default, but a
// test (or an operator, through the mock's API and CLI) can move it forward at any moment; timers
// that fall due are then fired at once, in due order, so a whole schedule can be walked in
// milliseconds.
//
// The mock is shared by many tenants (API keys), and one tenant moving time must not move the
// others. A base clock, made by NewReal or NewManual, therefore hands out one tenant clock per
// tenant (Tenant). A tenant clock shows its base's time plus its own offset: Advance on a tenant
// clock moves that tenant alone and fires only its timers, while Advance on the base moves the
// base and with it every tenant clock, and fires the timers of every tenant that fall due.
//
// A base and its tenant clocks form one tree with one lock and one scheduler: a heap of clocks
// keyed by when, in base time, each clock's earliest timer falls due. A real base wakes its single
// goroutine for the earliest timer of any tenant, there is no goroutine per tenant or per timer,
// and scheduling, stopping and firing a timer cost O(log n) in the number of timers and tenants.
// Moves are bounded (MaxAdvance per move, MaxOffset in total) so that no arithmetic on the clock
// can overflow.
package clock

import (
	"container/heap"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// year is a calendar-agnostic year, enough to state the bounds below.
const year = 365 * 24 * time.Hour

// MaxAdvance is the longest single move CheckAdvance and TryAdvance accept, and the most one
// Advance moves. Ten years is far beyond any wait the mock simulates, so no integration test needs
// more, and it keeps a careless request (say 2562047h, the largest Duration there is) from
// throwing a clock centuries ahead.
const MaxAdvance = 10 * year

// MaxOffset is the most a clock's own moves may add up to. A time.Duration holds only about 292
// years, so without a bound the offset itself overflows: advancing by 2562047h used to throw the
// clock to the year 2319, and every later advance wrapped the offset around and did nothing. With
// each clock (a base and each of its tenants) bounded by 100 years, a tenant clock is at most 200
// years ahead of its source and no sum of offsets the clock computes can overflow.
const MaxOffset = 100 * year

// CheckAdvance reports whether d is a move the clock accepts: not negative and at most
// MaxAdvance. Zero is accepted and moves nothing. The error is written for the caller's client:
// it says what was refused and why.
func CheckAdvance(d time.Duration) error {
	switch {
	case d < 0:
		return fmt.Errorf("cannot advance the clock by %s: the clock only moves forward", d)
	case d > MaxAdvance:
		return fmt.Errorf("cannot advance the clock by %s: one move may be at most %s (10 years)", d, MaxAdvance)
	}
	return nil
}

// Clock tells the time and runs functions when their time comes. The zero value is not usable:
// create a base clock with NewReal or NewManual, and tenant clocks with Tenant. A Clock is safe
// for concurrent use.
type Clock struct {
	tree *tree
	root *Clock // a tenant clock's base; nil for the base itself
	// offset is what Advance has added: to the source for the base, to the base's time for a
	// tenant.
	offset time.Duration
	// target is the offset the running Advance calls move to: offset steps towards it timer by
	// timer, so a timer sees the time it fell due and timers it schedules land in due order.
	target time.Duration
	timers timerHeap
	// key is when, in base time, the earliest of timers falls due; index is the clock's place in
	// tree.due, -1 while it has no timers.
	key   time.Time
	index int
	// forgotten marks a tenant clock dropped by ForgetTenant: it still tells the time, but no
	// timer scheduled on it ever fires, so a caller holding it on cannot grow the tree again.
	forgotten bool
}

// tree is what a base clock and its tenant clocks share.
type tree struct {
	mu      sync.Mutex
	source  func() time.Time // nil for a manual clock
	start   time.Time        // manual clocks: the base time before offset
	due     clockHeap        // every clock of the tree that has timers, earliest key first
	tenants map[string]*Clock
	seq     uint64 // orders timers that fall due at the same instant by creation, tree-wide
	wake    chan struct{}
	done    chan struct{}
	closed  bool
	// onPanic receives what a timer's function panicked with (Clock.OnPanic); nil lets the
	// panic go on.
	onPanic func(value any, stack []byte)
}

// NewReal returns a base clock that follows the wall clock; Advance moves it ahead of the wall
// clock by the given duration, and it keeps running from there.
func NewReal() *Clock {
	c := newClock(time.Now, time.Time{})
	go c.run()
	return c
}

// NewManual returns a base clock frozen at start that moves only when Advance is called, so tests
// are fully deterministic.
func NewManual(start time.Time) *Clock {
	return newClock(nil, start)
}

func newClock(source func() time.Time, start time.Time) *Clock {
	return &Clock{
		tree: &tree{
			source:  source,
			start:   start,
			tenants: map[string]*Clock{},
			wake:    make(chan struct{}, 1),
			done:    make(chan struct{}),
		},
		index: -1,
	}
}

// Tenant returns tenant id's clock, created on first use at the base's time (offset zero); the
// same id gives the same *Clock until ForgetTenant drops it. Tenant clocks have no tenants of
// their own: Tenant, ForgetTenant and Tenants panic when called on one, since that is a wiring
// mistake that would otherwise mix tenants up.
func (c *Clock) Tenant(id string) *Clock {
	c.mustBeBase("Tenant")
	c.tree.mu.Lock()
	defer c.tree.mu.Unlock()
	t, ok := c.tree.tenants[id]
	if !ok {
		t = &Clock{tree: c.tree, root: c, index: -1}
		c.tree.tenants[id] = t
	}
	return t
}

// ForgetTenant drops tenant id's clock and stops its timers, so a registry of tenants can bound
// the memory idle tenants hold; a later Tenant(id) starts a fresh clock at the base's time. A
// caller still holding the old clock can read the time from it, but timers scheduled on it never
// fire. Forgetting an unknown id does nothing.
func (c *Clock) ForgetTenant(id string) {
	c.mustBeBase("ForgetTenant")
	c.tree.mu.Lock()
	defer c.tree.mu.Unlock()
	t, ok := c.tree.tenants[id]
	if !ok {
		return
	}
	delete(c.tree.tenants, id)
	for _, tm := range t.timers {
		tm.index = -1
		tm.f = nil
	}
	t.timers = nil
	t.forgotten = true
	t.fixLocked()
}

// Tenants reports how many tenant clocks exist.
func (c *Clock) Tenants() int {
	c.mustBeBase("Tenants")
	c.tree.mu.Lock()
	defer c.tree.mu.Unlock()
	return len(c.tree.tenants)
}

func (c *Clock) mustBeBase(op string) {
	if c.root != nil {
		panic("clock: " + op + " called on a tenant clock; only a base clock has tenants")
	}
}

// Now returns the clock's current time in UTC.
func (c *Clock) Now() time.Time {
	c.tree.mu.Lock()
	defer c.tree.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	return c.atOffsetLocked(c.offset)
}

// atOffsetLocked is the time Now would report with the given offset.
func (c *Clock) atOffsetLocked(offset time.Duration) time.Time {
	switch {
	case c.root != nil:
		return c.root.nowLocked().Add(offset)
	case c.tree.source != nil:
		return c.tree.source().Add(offset).UTC()
	default:
		return c.tree.start.Add(offset).UTC()
	}
}

// Offset reports how far the clock has been moved in total, so that Now is always the source's
// time plus Offset. For a tenant clock that is the base's offset plus the tenant's own.
func (c *Clock) Offset() time.Duration {
	c.tree.mu.Lock()
	defer c.tree.mu.Unlock()
	if c.root != nil {
		return c.root.offset + c.offset
	}
	return c.offset
}

// Timer is a function scheduled on a Clock.
type Timer struct {
	c     *Clock
	due   time.Time // in the time of c
	seq   uint64
	f     func() // nil once fired or stopped, so the timer no longer holds what f captures
	index int    // position in c.timers, -1 once fired or stopped
}

// AfterFunc runs f once the clock has passed d from now. f runs in the base clock's own goroutine
// for real clocks and in the goroutine that calls Advance for both kinds, so it must not block for
// long. A timer that is already due when scheduled (d <= 0) fires promptly on both kinds of clock,
// on a manual clock in a goroutine of its own, rather than waiting for the next Advance.
func (c *Clock) AfterFunc(d time.Duration, f func()) *Timer {
	c.tree.mu.Lock()
	return c.scheduleLocked(c.nowLocked().Add(d), f)
}

// At runs f once the clock reaches t; it is AfterFunc with an absolute time. The due time is t
// exactly, even if another goroutine advances the clock meanwhile.
func (c *Clock) At(t time.Time, f func()) *Timer {
	c.tree.mu.Lock()
	return c.scheduleLocked(t, f)
}

// scheduleLocked adds a timer due at due; it is called with the tree's lock held and releases it.
func (c *Clock) scheduleLocked(due time.Time, f func()) *Timer {
	tr := c.tree
	if c.forgotten {
		tr.mu.Unlock()
		return &Timer{c: c, index: -1}
	}
	t := &Timer{c: c, due: due, f: f, seq: tr.seq}
	tr.seq++
	heap.Push(&c.timers, t)
	c.fixLocked()
	first := tr.due[0] == c && c.timers[0] == t
	overdue := tr.source == nil && !due.After(c.nowLocked())
	tr.mu.Unlock()
	switch {
	case overdue:
		go c.fire(false)
	case first:
		tr.poke()
	}
	return t
}

// Stop cancels the timer. It reports whether the call stopped it, false if it had already fired
// or been stopped.
func (t *Timer) Stop() bool {
	t.c.tree.mu.Lock()
	defer t.c.tree.mu.Unlock()
	if t.index < 0 {
		return false
	}
	t.removeLocked()
	return true
}

// removeLocked takes the timer off its clock's heap, and the clock's place in the tree's heap
// with it, and returns the function it was to run.
func (t *Timer) removeLocked() func() {
	heap.Remove(&t.c.timers, t.index)
	t.c.fixLocked()
	f := t.f
	t.f = nil
	return f
}

// Advance moves the clock forward by d and fires, in due order, every timer that falls due,
// including timers scheduled by those timers within the new time. On a base clock that is the
// timers of the base and of every tenant clock; on a tenant clock, only that tenant's. While a
// timer runs, Now on its clock reports the time it fell due (or later), so a timer that schedules
// another one d ahead gets it due d after itself, not d after the end of the advance. It returns
// the new time. Concurrent calls add up. Timers must not call Advance.
//
// Advance never fails: it clamps d to between 0 and MaxAdvance, and to what is left of MaxOffset,
// so a negative move does nothing and a clock at MaxOffset stays there. Use TryAdvance to refuse
// such moves instead.
func (c *Clock) Advance(d time.Duration) time.Time {
	now, _ := c.advance(min(max(d, 0), MaxAdvance), true)
	return now
}

// TryAdvance is Advance that refuses, with an error for the caller's client, a move CheckAdvance
// refuses or one that would take the clock's own moves past MaxOffset in total. A refused move
// leaves the clock as it was; the time returned is then the clock's current time.
func (c *Clock) TryAdvance(d time.Duration) (time.Time, error) {
	if err := CheckAdvance(d); err != nil {
		return c.Now(), err
	}
	return c.advance(d, false)
}

// advance moves the clock by d, which is not negative; past MaxOffset it clamps d or refuses.
func (c *Clock) advance(d time.Duration, clamp bool) (time.Time, error) {
	c.tree.mu.Lock()
	c.target = max(c.target, c.offset)
	if room := max(MaxOffset-c.target, 0); d > room {
		if !clamp {
			moved := c.target
			c.tree.mu.Unlock()
			return c.Now(), fmt.Errorf("cannot advance the clock by %s: it has been advanced %s already, and all its moves together may add up to at most %s (100 years)",
				d, moved, MaxOffset)
		}
		d = room
	}
	c.target += d
	c.tree.mu.Unlock()
	c.fire(true)
	c.tree.poke()
	return c.Now(), nil
}

// fire runs, one at a time and without holding the lock, so that a timer may schedule others or
// read the clock, every timer this clock fires that has fallen due; with advancing, every one
// that falls due up to the target offset, stepping the offset to each timer's due time. A base
// clock fires the timers of the whole tree, a tenant clock only its own.
func (c *Clock) fire(advancing bool) {
	tr := c.tree
	for {
		tr.mu.Lock()
		upTo := c.offset
		if advancing {
			upTo = c.target
		}
		t, due := c.nextLocked()
		if t == nil || due.After(c.atOffsetLocked(upTo)) {
			if c.offset < upTo {
				c.setOffsetLocked(upTo)
			}
			tr.mu.Unlock()
			return
		}
		if now := c.nowLocked(); due.After(now) {
			c.setOffsetLocked(c.offset + due.Sub(now))
		}
		f := t.removeLocked()
		report := tr.onPanic
		tr.mu.Unlock()
		call(f, report)
	}
}

// call runs a timer's function. A panic in it goes to report, when the clock has one, rather than
// on: as net/http does with a handler's, so that a bug a tenant's timer runs into does not stop
// the mock, nor leave a clock move half done.
func call(f func(), report func(value any, stack []byte)) {
	if report != nil {
		defer func() {
			if p := recover(); p != nil {
				report(p, debug.Stack())
			}
		}()
	}
	f()
}

// OnPanic has the panics of the timers of the base clock's tree, tenants' included, reported to
// report, with the stack, instead of going on (and, in the goroutine of a real clock, ending the
// process); the timers after them still fire.
func (c *Clock) OnPanic(report func(value any, stack []byte)) {
	c.mustBeBase("OnPanic")
	c.tree.mu.Lock()
	defer c.tree.mu.Unlock()
	c.tree.onPanic = report
}

// nextLocked returns the earliest timer this clock fires and when, in this clock's time, it falls
// due; nil if there is none.
func (c *Clock) nextLocked() (*Timer, time.Time) {
	if c.root != nil {
		if len(c.timers) == 0 {
			return nil, time.Time{}
		}
		return c.timers[0], c.timers[0].due
	}
	if len(c.tree.due) == 0 {
		return nil, time.Time{}
	}
	first := c.tree.due[0]
	return first.timers[0], first.key
}

func (c *Clock) setOffsetLocked(offset time.Duration) {
	c.offset = offset
	c.fixLocked()
}

// fixLocked brings the clock's key and place in the tree's heap up to date after its earliest
// timer or its offset changed; a clock without timers leaves the heap.
func (c *Clock) fixLocked() {
	h := &c.tree.due
	if len(c.timers) == 0 {
		if c.index >= 0 {
			heap.Remove(h, c.index)
		}
		return
	}
	c.key = c.timers[0].due
	if c.root != nil {
		c.key = c.key.Add(-c.offset)
	}
	if c.index < 0 {
		heap.Push(h, c)
	} else {
		heap.Fix(h, c.index)
	}
}

// next reports how long until the earliest timer of the tree is due, and whether there is one.
func (c *Clock) next() (time.Duration, bool) {
	c.tree.mu.Lock()
	defer c.tree.mu.Unlock()
	t, due := c.nextLocked()
	if t == nil {
		return 0, false
	}
	return due.Sub(c.nowLocked()), true
}

func (tr *tree) poke() {
	select {
	case tr.wake <- struct{}{}:
	default:
	}
}

// run fires timers as real time passes; only real base clocks run it, one goroutine for the whole
// tree.
func (c *Clock) run() {
	idle := time.NewTimer(time.Hour)
	defer idle.Stop()
	for {
		wait, ok := c.next()
		if !ok {
			wait = time.Hour
		}
		if wait <= 0 {
			c.fire(false)
			continue
		}
		idle.Reset(wait)
		select {
		case <-c.tree.done:
			return
		case <-c.tree.wake:
		case <-idle.C:
			c.fire(false)
		}
	}
}

// Close stops the goroutine of a real base clock. Pending timers of the tree never fire afterwards
// unless Advance is called. On a tenant clock Close does nothing: the goroutine belongs to the
// base, and ForgetTenant is what drops a tenant.
func (c *Clock) Close() {
	if c.root != nil {
		return
	}
	c.tree.mu.Lock()
	defer c.tree.mu.Unlock()
	if !c.tree.closed {
		c.tree.closed = true
		close(c.tree.done)
	}
}

// Timers of one clock and clocks of one tree are each kept in an indexHeap: earliest first, ties
// broken by creation so timers due at the same instant fire in the order they were scheduled,
// even across tenants. Each element knows its index, so Stop and Fix cost O(log n).
type (
	timerHeap = indexHeap[*Timer]
	clockHeap = indexHeap[*Clock]
)

// before orders timers by due time, then creation.
func (t *Timer) before(u *Timer) bool { return earlier(t.due, t.seq, u.due, u.seq) }

// before orders clocks by when, in base time, their earliest timer falls due, then by that
// timer's creation.
func (c *Clock) before(d *Clock) bool {
	return earlier(c.key, c.timers[0].seq, d.key, d.timers[0].seq)
}

func (t *Timer) place(i int) { t.index = i }
func (c *Clock) place(i int) { c.index = i }

func earlier(a time.Time, aSeq uint64, b time.Time, bSeq uint64) bool {
	if a.Equal(b) {
		return aSeq < bSeq
	}
	return a.Before(b)
}

// heapItem is what an indexHeap holds: something ordered that keeps its own index, -1 when out.
type heapItem[T any] interface {
	before(T) bool
	place(int)
}

// indexHeap implements heap.Interface for items that track their own place in it.
type indexHeap[T heapItem[T]] []T

func (h indexHeap[T]) Len() int           { return len(h) }
func (h indexHeap[T]) Less(i, j int) bool { return h[i].before(h[j]) }
func (h indexHeap[T]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].place(i)
	h[j].place(j)
}

func (h *indexHeap[T]) Push(x any) {
	item := x.(T)
	item.place(len(*h))
	*h = append(*h, item)
}

func (h *indexHeap[T]) Pop() any {
	old := *h
	last := len(old) - 1
	item := old[last]
	var none T
	old[last] = none // so the backing array does not keep the item alive
	item.place(-1)
	*h = old[:last]
	return item
}
