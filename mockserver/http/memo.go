package http

import "sync"

// maxMemo bounds a memo: more entries than tenants the mock serves at once (DefaultMaxTenants),
// so that those in use stay remembered, and a few hundred KiB at most whatever clients send.
const maxMemo = 4 * DefaultMaxTenants

// memo remembers a string computed from each key, at most maxMemo of them, for what every call
// would otherwise compute again (and allocate) from the same few inputs: a test key's tenant, a
// scope. Once full it forgets them all and starts again, which costs the keys still in use one
// computation each. The zero value is empty, ready to use.
type memo[K comparable] struct {
	mu sync.RWMutex
	m  map[K]string
}

// get returns the string of k, computed by compute on k's first call.
func (c *memo[K]) get(k K, compute func(K) string) string {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return v
	}
	v = compute(k)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxMemo {
		c.m = make(map[K]string)
	}
	c.m[k] = v
	c.mu.Unlock()
	return v
}
