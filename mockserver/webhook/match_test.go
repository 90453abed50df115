package webhook

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMatchEventType(t *testing.T) {
	t.Parallel()
	const completed = "payment.request.state-change.completed"
	for _, tc := range []struct {
		pattern string
		match   bool
	}{
		{"*", true},
		{"payment.*", true},
		{"payment.request.*", true},
		{"payment.request.state-change.*", true},
		{completed, true},
		{"payment.request.state-change.declined", false},
		{"payment.transaction.*", false},
		{"identity.*", false},
		{"payment", false},
		{"payment.request.state-change.complete", false},
		{"payment.request.state-change.completed.*", false},
		{"pay*", false},
	} {
		require.Equal(t, tc.match, MatchEventType([]string{tc.pattern}, completed), tc.pattern)
	}
	require.True(t, MatchEventType([]string{"identity.*", "payment.request.*"}, completed))
	require.False(t, MatchEventType(nil, completed))
}

func TestValidPattern(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"*", "payment.*", "payment.request.*", "payment.request.state-change.*", "payment.transaction.*",
		"payment.transaction.state-change.*", "identity.*", "identity.customer-token.*", "payment.transaction.captured"} {
		require.True(t, validPattern(p), p)
	}
	for _, p := range []string{"", "payment", "payment.", "*.*", "payment.*.*", "pay*", "payment.req.*", "foo.*", ".*", "payment.request.state-change.completed.*", "PAYMENT.*", "customer.*"} {
		require.False(t, validPattern(p), p)
	}
	for _, e := range EventTypes() {
		require.True(t, validPattern(e), e)
	}
}
