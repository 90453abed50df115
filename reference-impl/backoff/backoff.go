// Package backoff holds what the reference Acquiring Partner's retried calls share: to Klarna
// (package klarna) and to Partners (package partnerhook). Both wait a jittered, doubling time
// between attempts, and both take defaults for the retry settings left zero. RetryAfter reads
// the wait a server asks for.
package backoff

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfter bounds what RetryAfter returns, so that an absurd header cannot overflow a
// duration; callers cap the wait they accept far below it.
const maxRetryAfter = 24 * time.Hour

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

// RetryAfter reads a Retry-After header value (RFC 9110 §10.2.3): a number of seconds, or an
// HTTP-date, taken relative to now. ok is false when the value is absent or neither; a date in
// the past, or 0 seconds, is a wait of 0 with ok true. The wait is at most a day.
func RetryAfter(value string, now time.Time) (wait time.Duration, ok bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	secs, err := strconv.ParseUint(value, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange), err == nil && secs > uint64(maxRetryAfter/time.Second):
		return maxRetryAfter, true
	case err == nil:
		return time.Duration(secs) * time.Second, true
	}
	at, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return min(max(at.Sub(now), 0), maxRetryAfter), true
}
