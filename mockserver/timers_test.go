package mockserver_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/fixtures"
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

// scripted makes a request whose reference contains "scripted" step up with the simulated
// customer approving 30 minutes later.
const scripted = `version: 1
rules:
  - name: scripted customer
    when: { reference_contains: scripted }
    then: { result: STEP_UP_REQUIRED, customer: { action: approve, after: 30m } }
`

// newService is a service on memdb and a manual clock, with the default rules and scripted.
func newService(t *testing.T) (*mockserver.Service, *clock.Clock) {
	t.Helper()
	return newPublishingService(t, nil)
}

// newPublishingService is newService handing its events to pub.
func newPublishingService(t *testing.T, pub mockserver.Publisher) (*mockserver.Service, *clock.Clock) {
	t.Helper()
	base := clock.NewManual(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	store, err := memdb.New(memdb.Config{Clock: base})
	require.NoError(t, err)
	defaults, err := fixtures.DefaultSet()
	require.NoError(t, err)
	over, err := rules.Load("scripted", []byte(scripted))
	require.NoError(t, err)
	return mockserver.NewService(mockserver.Config{Store: store, Rules: rules.Merge(defaults, over), Clock: base, Publisher: pub}), base
}

// stepUp creates a Payment Request for scope through an initial authorize that steps up (the
// magic amount 13400), with reference as its payment_request_reference.
func stepUp(t *testing.T, s *mockserver.Service, scope, reference string) *mockserver.PaymentRequest {
	t.Helper()
	resp, err := s.Authorize(mockserver.AuthorizeCall{AccountID: scope, Request: &mockserver.AuthorizeRequest{
		Currency:                  "USD",
		RequestPaymentTransaction: &mockserver.PaymentTransactionRequest{Amount: 13400},
		StepUpConfig: &mockserver.StepUpConfig{
			PaymentRequestReference:   reference,
			CustomerInteractionConfig: mockserver.CustomerInteractionConfig{Method: mockserver.MethodSDK},
		},
	}})
	require.NoError(t, err)
	require.NotNil(t, resp.PaymentRequest)
	return resp.PaymentRequest
}

// TestRequestTimersEndWithTheRequest checks that a Payment Request's timers run on its tenant's
// clock and are dropped as soon as it reaches a state it cannot expire from, whichever way it
// gets there: the Partner cancels, the customer approves or is declined (by the journey page,
// which knows only the id), the simulated customer acts, it expires, or its tenant is forgotten.
func TestRequestTimersEndWithTheRequest(t *testing.T) {
	t.Parallel()
	s, base := newService(t)
	const a, b = "key-a/krn:partner:global:account:test:A", "key-b/krn:partner:global:account:test:B"
	var prs []*mockserver.PaymentRequest
	for range 4 {
		prs = append(prs, stepUp(t, s, a, "purchase"))
	}
	customer := stepUp(t, s, a, "scripted")
	other := stepUp(t, s, b, "purchase")
	require.Equal(t, 6, mockserver.PendingTimers(s))

	_, err := s.Cancel(a, prs[0].PaymentRequestID)
	require.NoError(t, err)
	require.Equal(t, 5, mockserver.PendingTimers(s))

	// Tenant A's clock moves alone; the journey page finds the request by id and acts at its
	// tenant's time. A's scripted customer approves on the way.
	aNow, err := base.Tenant("key-a").TryAdvance(time.Hour)
	require.NoError(t, err)
	approved, err := s.Act("", prs[1].PaymentRequestID, mockserver.JourneyApprove)
	require.NoError(t, err)
	require.Equal(t, aNow, *approved.CompletedAt)
	require.NotEqual(t, base.Now(), *approved.CompletedAt)
	got, err := s.PaymentRequest(a, customer.PaymentRequestID)
	require.NoError(t, err)
	require.Equal(t, mockserver.StateCompleted, got.State)
	require.Equal(t, 3, mockserver.PendingTimers(s))

	_, err = s.Act("", prs[2].PaymentRequestID, mockserver.JourneyDecline)
	require.NoError(t, err)
	require.Equal(t, 2, mockserver.PendingTimers(s))

	// Three hours on A's clock expire A's last open request, not B's.
	_, err = base.Tenant("key-a").TryAdvance(2 * time.Hour)
	require.NoError(t, err)
	got, err = s.PaymentRequest(a, prs[3].PaymentRequestID)
	require.NoError(t, err)
	require.Equal(t, mockserver.StateExpired, got.State)
	got, err = s.PaymentRequest(b, other.PaymentRequestID)
	require.NoError(t, err)
	require.Equal(t, mockserver.StateSubmitted, got.State)
	require.Equal(t, 1, mockserver.PendingTimers(s))

	s.ForgetTenant("key-b")
	require.Zero(t, mockserver.PendingTimers(s))
}
