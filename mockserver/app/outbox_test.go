package app_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/postgres"
	"github.com/klarna-mock/klarna-mock/mockserver/storetest"
)

// TestOutboxOutlivesACrashBeforeDispatch plays a mock that dies between a change's commit and its
// event's dispatch: the change and its event are committed on the database (as the service's
// transaction does, Tx.Emit) and no mock is told. Two mocks started on the database then take the
// event up at start: it is delivered once, and its retry made once when the tenant's clock
// reaches it.
func TestOutboxOutlivesACrashBeforeDispatch(t *testing.T) {
	t.Parallel()
	db := storetest.Database(t)
	counts, receiver := flakyReceiver(t)
	first, stopFirst := replica(t, db, "outbox")
	webhookOn(first, receiver, mockserver.EventRequestCanceled)
	request := first.stepUp()
	stopFirst()

	// The crashed mock's last change: the request canceled, with its event, committed.
	store, err := postgres.Open(t.Context(), postgres.Config{URL: db})
	require.NoError(t, err)
	var pr *mockserver.PaymentRequest
	require.NoError(t, store.View(func(tx mockserver.Tx) error {
		pr, err = tx.PaymentRequest("", request)
		return err
	}))
	canceled := pr.Clone()
	canceled.PreviousState, canceled.State = canceled.State, mockserver.StateCanceled
	owner, account := mockserver.SplitScope(canceled.AccountID)
	require.NoError(t, store.Update(func(tx mockserver.Tx) error {
		if err := tx.PutPaymentRequest(canceled); err != nil {
			return err
		}
		return tx.Emit(mockserver.Event{Type: mockserver.EventRequestCanceled, Tenant: owner, AccountID: account,
			Subject: request, OccurredAt: restartStart, Payload: canceled})
	}))
	store.Close()

	var a, b tenant
	var wg sync.WaitGroup
	wg.Go(func() { a, _ = replica(t, db, "outbox") })
	wg.Go(func() { b, _ = replica(t, db, "outbox") })
	wg.Wait()
	require.Equal(t, "CANCELED", a.requestState(request))
	requireAttempts(t, counts, 1, 1)
	require.Equal(t, http.StatusOK, b.advance("PT10S").status)
	requireAttempts(t, counts, 1, 2)
	require.Equal(t, http.StatusOK, a.advance("PT1H").status)
	requireAttempts(t, counts, 1, 2)
}
