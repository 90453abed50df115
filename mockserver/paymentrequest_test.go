package mockserver

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTransitions walks every pair of states and checks the state machine of docs/klarna.md §6:
// exactly the listed moves are allowed, everything else is a 409 that leaves the request as it was.
func TestTransitions(t *testing.T) {
	t.Parallel()
	all := []string{StateSubmitted, StateInProgress, StateCompleted, StateDeclined, StateExpired, StateCanceled}
	allowed := map[[2]string]bool{
		{StateSubmitted, StateInProgress}: true,
		{StateSubmitted, StateExpired}:    true,
		{StateSubmitted, StateCanceled}:   true,
		{StateInProgress, StateSubmitted}: true,
		{StateInProgress, StateCompleted}: true,
		{StateInProgress, StateDeclined}:  true,
		{StateInProgress, StateExpired}:   true,
		{StateInProgress, StateCanceled}:  true,
		{StateCompleted, StateCanceled}:   true,
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, from := range all {
		for _, to := range all {
			t.Run(from+"->"+to, func(t *testing.T) {
				t.Parallel()
				pr := &PaymentRequest{PaymentRequestID: "krn:payment:eu1:request:x", State: from, StateContext: &StateContext{}}
				next, err := pr.Transition(to, "WHY", now)
				require.Equal(t, from, pr.State, "the original must never change")
				if !allowed[[2]string{from, to}] {
					require.Error(t, err)
					require.Equal(t, http.StatusConflict, AsError(err).Status)
					require.Equal(t, CodeInvalidStateTransition, AsError(err).ErrorCode)
					return
				}
				require.NoError(t, err)
				require.Equal(t, to, next.State)
				require.Equal(t, from, next.PreviousState)
				require.Equal(t, "WHY", next.StateReason)
				require.Equal(t, now, next.UpdatedAt)
				require.NotSame(t, pr.StateContext, next.StateContext)
				if to == StateCanceled {
					require.Equal(t, now, *next.CanceledAt)
				}
			})
		}
	}
}

func TestFinalizedRequestCannotBeCanceled(t *testing.T) {
	t.Parallel()
	now := time.Now()
	pr := &PaymentRequest{State: StateCompleted, FinalizedAt: &now}
	require.True(t, pr.Terminal())
	_, err := pr.Transition(StateCanceled, ReasonPartnerCanceled, now)
	require.ErrorContains(t, err, "finalized")
}

func TestParseISODuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"PT15M": 15 * time.Minute, "PT3H": 3 * time.Hour, "P2D": 48 * time.Hour, "P1DT12H": 36 * time.Hour,
		"PT1H30M10S": time.Hour + 30*time.Minute + 10*time.Second, "P1W": 7 * 24 * time.Hour,
	} {
		got, err := ParseISODuration(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "P", "PT", "15M", "PT15", "P1M", "PT1D", "PTM", "P1H", "PT-5M", "PT99999999999H"} {
		_, err := ParseISODuration(bad)
		require.Error(t, err, bad)
	}
}

func TestScope(t *testing.T) {
	t.Parallel()
	tenant, account := SplitScope(Scope("key-abc", "krn:partner:global:account:test:ABC"))
	require.Equal(t, "key-abc", tenant)
	require.Equal(t, "krn:partner:global:account:test:ABC", account)
}
