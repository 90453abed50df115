package backoff

import (
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
