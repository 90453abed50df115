package mockserver_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

// recorder keeps the events a service publishes.
type recorder struct {
	mu     sync.Mutex
	events []mockserver.Event
}

func (r *recorder) Publish(e mockserver.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// types are the types of the events published about subject so far, in order.
func (r *recorder) types(subject string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.Subject == subject {
			out = append(out, e.Type)
		}
	}
	return out
}

// txScope is the scope the tests' transactions belong to: tenant key-a, a partner account.
const txScope = "key-a/krn:partner:global:account:test:A"

// newTransactionService is newService with its events recorded.
func newTransactionService(t *testing.T) (*mockserver.Service, *clock.Clock, *recorder) {
	t.Helper()
	rec := &recorder{}
	s, base := newPublishingService(t, rec)
	return s, base, rec
}

// authorized walks a one-time payment of 13400 through the Purchase Journey and its final
// authorize, and returns the transaction created, AUTHORIZED.
func authorized(t *testing.T, s *mockserver.Service, scope string) *mockserver.PaymentTransaction {
	t.Helper()
	pr := stepUp(t, s, scope, "purchase")
	done, err := s.Act(scope, pr.PaymentRequestID, mockserver.JourneyApprove)
	require.NoError(t, err)
	resp, err := s.Authorize(mockserver.AuthorizeCall{
		AccountID:     scope,
		Request:       &mockserver.AuthorizeRequest{Currency: "USD", RequestPaymentTransaction: &mockserver.PaymentTransactionRequest{Amount: 13400}},
		SessionToken:  done.StateContext.KlarnaNetworkSessionToken,
		SessionHeader: mockserver.HeaderNetworkSessionToken,
	})
	require.NoError(t, err)
	require.Equal(t, mockserver.ResultApproved, resp.PaymentTransactionResponse.Result)
	tr := resp.PaymentTransactionResponse.PaymentTransaction
	require.Equal(t, mockserver.TransactionAuthorized, tr.State)
	return tr
}

// requireKlarnaError asserts err is a Klarna error with status and code.
func requireKlarnaError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var ke *mockserver.Error
	require.ErrorAs(t, err, &ke)
	require.Equal(t, status, ke.Status, ke.Error())
	require.Equal(t, code, ke.ErrorCode)
}

// TestTransactionStatesFollowTheTenantsClock follows Klarna's "Payment transaction state
// definitions" page (docs.klarna.com/klarna-network-distribution/after-payments/
// manage-payment-transactions/payment-transaction-state-definitions/): an AUTHORIZED transaction
// not fully captured EXPIRES at expires_at and, 7 days later, CLOSES, or COMPLETES when it was
// partly captured, the rest released. Each change is announced, on the transaction's tenant's
// clock alone, and the transaction's one timer ends with its last timed transition.
func TestTransactionStatesFollowTheTenantsClock(t *testing.T) {
	t.Parallel()
	s, base, rec := newTransactionService(t)
	const other = "key-b/krn:partner:global:account:test:B"
	uncaptured := authorized(t, s, txScope)
	partly := authorized(t, s, txScope)
	_, err := s.Capture(txScope, partly.PaymentTransactionID, mockserver.CaptureRequest{CapturedAmount: 4000})
	require.NoError(t, err)
	elsewhere := authorized(t, s, other)
	require.Equal(t, 3, mockserver.PendingTransactionTimers(s))

	_, err = base.Tenant("key-a").TryAdvance(mockserver.TransactionExpiry)
	require.NoError(t, err)
	for _, id := range []string{uncaptured.PaymentTransactionID, partly.PaymentTransactionID} {
		got, err := s.PaymentTransaction(txScope, id)
		require.NoError(t, err)
		require.Equal(t, mockserver.TransactionExpired, got.State)
		require.Equal(t, mockserver.FundingExpired, got.PaymentFunding.State)
	}
	got, err := s.PaymentTransaction(other, elsewhere.PaymentTransactionID)
	require.NoError(t, err)
	require.Equal(t, mockserver.TransactionAuthorized, got.State, "another tenant's clock did not move")
	_, err = s.Capture(txScope, uncaptured.PaymentTransactionID, mockserver.CaptureRequest{})
	requireKlarnaError(t, err, http.StatusConflict, mockserver.CodeInvalidStateTransition)

	_, err = base.Tenant("key-a").TryAdvance(mockserver.ExpiredTransactionKept)
	require.NoError(t, err)
	got, err = s.PaymentTransaction(txScope, uncaptured.PaymentTransactionID)
	require.NoError(t, err)
	require.Equal(t, mockserver.TransactionClosed, got.State)
	got, err = s.PaymentTransaction(txScope, partly.PaymentTransactionID)
	require.NoError(t, err)
	require.Equal(t, mockserver.TransactionCompleted, got.State)
	require.Equal(t, []string{mockserver.EventTransactionAuthorized, mockserver.EventTransactionExpired, mockserver.EventTransactionClosed},
		rec.types(uncaptured.PaymentTransactionID))
	require.Equal(t, []string{mockserver.EventTransactionAuthorized, mockserver.EventTransactionCaptured, mockserver.EventTransactionExpired, mockserver.EventTransactionCompleted},
		rec.types(partly.PaymentTransactionID))
	require.Equal(t, 1, mockserver.PendingTransactionTimers(s), "only the other tenant's transaction still has a timer")

	_, err = s.Refund(txScope, uncaptured.PaymentTransactionID, "", mockserver.RefundRequest{RefundedAmount: 1})
	requireKlarnaError(t, err, http.StatusConflict, mockserver.CodeInvalidStateTransition)
	s.ForgetTenant("key-b")
	require.Zero(t, mockserver.PendingTransactionTimers(s))
}

// TestVoidEndsTheTransaction follows Klarna Direct's "Void a Payment Transaction" page
// (docs.klarna.com/acquirer/klarna-direct/after-payments/manage-payment-transactions/
// void-a-payment-transaction/): a void releases the remaining authorization; without captures the
// transaction is CLOSED, with captures COMPLETED, and its timer is stopped.
func TestVoidEndsTheTransaction(t *testing.T) {
	t.Parallel()
	s, _, rec := newTransactionService(t)
	bare, captured := authorized(t, s, txScope), authorized(t, s, txScope)
	_, err := s.Capture(txScope, captured.PaymentTransactionID, mockserver.CaptureRequest{CapturedAmount: 100})
	require.NoError(t, err)

	closed, err := s.Void(txScope, bare.PaymentTransactionID)
	require.NoError(t, err)
	require.Equal(t, mockserver.TransactionClosed, closed.State)
	completed, err := s.Void(txScope, captured.PaymentTransactionID)
	require.NoError(t, err)
	require.Equal(t, mockserver.TransactionCompleted, completed.State)
	require.Zero(t, mockserver.PendingTransactionTimers(s))
	require.Equal(t, mockserver.EventTransactionClosed, rec.types(bare.PaymentTransactionID)[1])
	require.Equal(t, mockserver.EventTransactionCompleted, rec.types(captured.PaymentTransactionID)[2])

	_, err = s.Void(txScope, captured.PaymentTransactionID)
	requireKlarnaError(t, err, http.StatusConflict, mockserver.CodeInvalidStateTransition)
	_, err = s.Capture(txScope, captured.PaymentTransactionID, mockserver.CaptureRequest{})
	requireKlarnaError(t, err, http.StatusConflict, mockserver.CodeInvalidStateTransition)
	// What was captured stays refundable.
	_, err = s.Refund(txScope, captured.PaymentTransactionID, "", mockserver.RefundRequest{RefundedAmount: 100})
	require.NoError(t, err)
}

// TestTransactionLimits follows Klarna's "Capture a payment transaction" page (at most 200
// captures, docs.klarna.com/klarna-network-distribution/after-payments/
// manage-payment-transactions/capture-a-payment-transaction) and its "Refund a Payment
// Transaction" page (at most 200 refunds and 500 actions in all, 403 beyond,
// docs.klarna.com/acquirer/klarna-network/after-payments/manage-payment-transactions/
// refund-a-payment-transaction/).
func TestTransactionLimits(t *testing.T) {
	t.Parallel()
	s, _, _ := newTransactionService(t)
	tr := authorized(t, s, txScope)
	id := tr.PaymentTransactionID
	for range mockserver.MaxCaptures {
		_, err := s.Capture(txScope, id, mockserver.CaptureRequest{CapturedAmount: 1})
		require.NoError(t, err)
	}
	_, err := s.Capture(txScope, id, mockserver.CaptureRequest{CapturedAmount: 1})
	requireKlarnaError(t, err, http.StatusForbidden, mockserver.CodeForbidden)
	for range mockserver.MaxRefunds {
		_, err := s.Refund(txScope, id, "", mockserver.RefundRequest{RefundedAmount: 1, LineItems: []mockserver.LineItem{{Name: "Sock", Quantity: 1, TotalAmount: 1}}})
		require.NoError(t, err)
	}
	_, err = s.Refund(txScope, id, "", mockserver.RefundRequest{RefundedAmount: 1})
	requireKlarnaError(t, err, http.StatusForbidden, mockserver.CodeForbidden)
	for range mockserver.MaxOperations - mockserver.MaxCaptures - mockserver.MaxRefunds {
		_, err := s.UpdateTransaction(txScope, id, mockserver.TransactionUpdate{PaymentTransactionReference: "again"})
		require.NoError(t, err)
	}
	_, err = s.UpdateTransaction(txScope, id, mockserver.TransactionUpdate{PaymentTransactionReference: "once more"})
	requireKlarnaError(t, err, http.StatusForbidden, mockserver.CodeForbidden)
	_, err = s.Void(txScope, id)
	requireKlarnaError(t, err, http.StatusForbidden, mockserver.CodeForbidden)
}
