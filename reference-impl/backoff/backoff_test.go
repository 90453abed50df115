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
