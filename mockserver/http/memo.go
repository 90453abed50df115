package http

import "sync"

// maxMemo bounds a memo: more entries than tenants the mock serves at once (DefaultMaxTenants),
// so that those in use stay remembered, and, with keys of at most maxMemoKey bytes, about 2 MiB
// at most whatever clients send.
const maxMemo = 4 * DefaultMaxTenants

// maxMemoKey is the longest string a client chooses that a memo keeps as a key (or in one): an
// API key, a partner account (Klarna's are some forty bytes), a rule's name. Some are remembered
// before any API key is checked, so what a client can make the memos hold must stay small; the
// value of a longer one is computed on every call instead.
const maxMemoKey = 128

// memo remembers a value computed from each key, at most maxMemo of them, for what every call
// would otherwise compute again (and allocate) from the same few inputs: a test key's tenant, a
// scope, a route's path variables. Once full it forgets them all and starts again, which costs
// the keys still in use one computation each. The values are shared by every caller of the same
// key, so a value of a reference type (a map, a slice) must never be changed. The zero value is
// empty, ready to use.
type memo[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]V
}

// get returns the value of k, computed by compute on k's first call.
func (c *memo[K, V]) get(k K, compute func(K) V) V {
	v, ok := c.lookup(k)
	if ok {
		return v
	}
	v = compute(k)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxMemo {
		c.m = make(map[K]V)
	}
	c.m[k] = v
	c.mu.Unlock()
	return v
}

// lookup returns the value of k, if the memo has it.
func (c *memo[K, V]) lookup(k K) (V, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.m[k]
	return v, ok
}
