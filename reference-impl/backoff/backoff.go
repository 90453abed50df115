// Package backoff holds what the reference Acquiring Partner's retried calls share: to Klarna
// (package klarna) and to Partners (package partnerhook). Both wait a jittered, doubling time
// between attempts, and both take defaults for the retry settings left zero.
package backoff

import (
	"context"
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

// Sleep waits d, or less if ctx ends first. It reports whether it waited all of d, that is
// whether the caller should make its next attempt.
func Sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// OrDefault returns v if it is positive, else def. A setting left zero takes its default, and
// so does a negative one, which could only mean no attempts, no waits or no time at all.
func OrDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
