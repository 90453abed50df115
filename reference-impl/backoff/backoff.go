// Package backoff computes retry waits for the reference Acquiring Partner's outgoing calls: to
// Klarna (package klarna) and to Partners (package partnerhook).
package backoff

import (
	"math/rand/v2"
	"time"
)

// Jittered returns the wait before retry n (1 for the first retry): a random duration below
// initial·2^(n-1), capped at limit ("full jitter"), so clients that failed together do not retry
// together. It is at least one nanosecond.
func Jittered(initial, limit time.Duration, n int) time.Duration {
	ceiling := limit
	if n >= 1 && n-1 < 32 {
		if d := initial << (n - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	if ceiling <= 0 {
		return 1
	}
	return rand.N(ceiling) + 1
}
