package backoff

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestJitteredStaysBelowItsCeiling(t *testing.T) {
	t.Parallel()
	for n, ceiling := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second, 60: 5 * time.Second} {
		for range 200 {
			d := Jittered(time.Second, 5*time.Second, n)
			require.Positive(t, d)
			require.LessOrEqual(t, d, ceiling, "retry %d", n)
		}
	}
	require.Equal(t, time.Duration(1), Jittered(0, 0, 1))
}

func TestSleepEndsWithItsContext(t *testing.T) {
	t.Parallel()
	require.True(t, Sleep(t.Context(), time.Millisecond))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	require.False(t, Sleep(ctx, time.Hour))
	require.Less(t, time.Since(start), time.Minute)
}

func TestOrDefault(t *testing.T) {
	t.Parallel()
	require.Equal(t, 5, OrDefault(0, 5))
	require.Equal(t, 5, OrDefault(-1, 5))
	require.Equal(t, 3, OrDefault(3, 5))
	require.Equal(t, time.Second, OrDefault(time.Duration(0), time.Second))
	require.Equal(t, time.Millisecond, OrDefault(time.Millisecond, time.Second))
}

func TestRetryAfterReadsSecondsAndDates(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for value, want := range map[string]time.Duration{
		"2":                               2 * time.Second,
		" 0 ":                             0,
		"Tue, 01 Dec 2026 12:00:03 GMT":   3 * time.Second,
		"Tuesday, 01-Dec-26 12:00:05 GMT": 5 * time.Second,
		"Tue Dec  1 12:00:07 2026":        7 * time.Second,
		"Tue, 01 Dec 2026 11:59:00 GMT":   0, // a date already past: retry at once
		"99999999999999":                  24 * time.Hour,
		"18446744073709551616":            24 * time.Hour,
		"Wed, 01 Dec 2100 12:00:00 GMT":   24 * time.Hour,
	} {
		got, ok := RetryAfter(value, now)
		require.True(t, ok, value)
		require.Equal(t, want, got, value)
	}
	for _, value := range []string{"", "soon", "-1", "1.5"} {
		_, ok := RetryAfter(value, now)
		require.False(t, ok, value)
	}
}
