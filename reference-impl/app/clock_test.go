package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	"github.com/klarna-mock/klarna-mock/testkit"
)

// In test mode the acquirer tells the time by the mock's clock of its own tenant, so moving that
// clock moves the acquirer's time with it: what it records, and the network session token's
// 60-minute window it checks before a final authorize.
func TestTheAcquirerTellsTheTimeByItsTenantsClockAtTheMock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	mock := &testkit.Control{URL: e.mockURL, APIKey: e.klarnaAPIKey}
	settle := func() { require.NoError(t, mock.SettleWebhooks(e.klarnaAPIKey, 5*time.Second)) }

	ahead, err := mock.AdvanceClock(2 * time.Hour)
	require.NoError(t, err)
	status, raw := e.call(http.MethodPost, "/v1/sessions", tokenSession("order-window", "ON_DEMAND", 2500, "SDK"))
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	s := decode[session](t, raw)
	require.Equal(t, acquirer.StatusRequiresAction, s.Status)
	require.WithinDuration(t, ahead, s.CreatedAt, 5*time.Second, "the session is created at the tenant's time")

	// The completion reaches the acquirer only after the token's window, on the tenant's clock.
	e.klarnaDown.Store(true)
	e.customer("approve", s.PaymentRequestID)
	settle()
	_, err = mock.AdvanceClock(61 * time.Minute)
	require.NoError(t, err)
	settle()
	e.klarnaDown.Store(false)
	_, err = mock.AdvanceClock(3 * time.Hour) // past the next retry, whichever it is
	require.NoError(t, err)

	failed := eventData[session](t, e.partner.await(t, "payment.declined", s.ID))
	require.Equal(t, acquirer.StatusFailed, failed.Status)
	require.Equal(t, "NETWORK_SESSION_TOKEN_EXPIRED", failed.DeclineReason,
		"the acquirer sees the window has passed, rather than asking Klarna for a final authorize it refuses")
	entries, err := mock.Journal(e.klarnaAPIKey, klarnaAccount)
	require.NoError(t, err)
	var authorizes int
	for _, en := range entries {
		if strings.HasSuffix(en.Path, "/payment/authorize") {
			authorizes++
		}
	}
	require.Equal(t, 1, authorizes, "the initial authorize only: no final authorize after the window")
}
