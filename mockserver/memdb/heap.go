package memdb

import (
	"math"
	"time"
)

// live is the heap key of an object that never finishes: it sorts after every finished one.
const live = math.MaxInt64

// doneKey turns a DoneAt into a heap key: Unix nanoseconds, live for the zero time. Instants
// outside what Unix nanoseconds hold (years 1678 to 2262, far beyond what the clock reaches) are
// clamped so they keep their order.
func doneKey(t time.Time) int64 {
	switch {
	case t.IsZero():
		return live
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case !t.Before(time.Unix(0, live)):
		return live - 1
	}
	return t.UnixNano()
}

// entry stands for one version of a stored object on its tenant's shelf.
type entry struct {
	at  int64  // doneKey of the object's DoneAt
	ver uint64 // the record version it stands for: the entry is stale once the record has another
	id  string
}

// before orders entries by DoneAt, then by version, so equal instants go in a fixed order.
func (e entry) before(f entry) bool { return e.at < f.at || e.at == f.at && e.ver < f.ver }

// doneHeap is a binary min-heap of entries. It is written out rather than built on container/heap,
// whose Push and Pop box every entry in an interface and so allocate on each call.
type doneHeap []entry

func (h *doneHeap) push(e entry) {
	*h = append(*h, e)
	h.up(len(*h) - 1)
}

// pop removes and returns the earliest entry; the heap must not be empty.
func (h *doneHeap) pop() entry {
	old := *h
	top, last := old[0], len(old)-1
	old[0] = old[last]
	old[last] = entry{} // let the id be collected
	*h = old[:last]
	h.down(0)
	return top
}

// init restores the heap order of arbitrarily ordered entries in O(n).
func (h doneHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h doneHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h[i].before(h[parent]) {
			return
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (h doneHeap) down(i int) {
	for {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h[l].before(h[least]) {
			least = l
		}
		if r < len(h) && h[r].before(h[least]) {
			least = r
		}
		if least == i {
			return
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
}
