package app_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

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

// TestOutboxWebhookRegisteredOnAnotherMock registers a webhook on one mock while another makes
// changes of the tenant one after another. A change records its event only if the tenant has a
// webhook when it commits, and a registration and the tenant's changes are serialized, so what
// is correct is: every change that began after the registration was answered is delivered, and
// the changes delivered are those from one change on, each once, with none left out between.
func TestOutboxWebhookRegisteredOnAnotherMock(t *testing.T) {
	t.Parallel()
	db := storetest.Database(t)
	receiver := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(receiver.Close)
	a, _ := replica(t, db, "outbox-register")
	b, _ := replica(t, db, "outbox-register")

	var mu sync.Mutex
	var made []string
	var wg sync.WaitGroup
	var key, hook answer
	after := -1 // the first change begun after the registration was answered
	for i := range 40 {
		if i == 10 {
			wg.Go(func() {
				key = b.do(http.MethodPost, "/v2/notification/signing-keys", nil)
				hook = b.do(http.MethodPost, "/v2/notification/webhooks", map[string]any{"url": receiver.URL,
					"event_types": []string{"payment.request.state-change.submitted"}, "signing_key_id": key.str("signing_key_id")})
				mu.Lock()
				defer mu.Unlock()
				after = len(made) + 1 // the change under way may have begun before
			})
		}
		id := a.stepUp()
		mu.Lock()
		made = append(made, id)
		mu.Unlock()
	}
	wg.Wait()
	require.Equal(t, http.StatusCreated, key.status, string(key.raw))
	require.Equal(t, http.StatusCreated, hook.status, string(hook.raw))
	for len(made) <= after {
		made = append(made, a.stepUp())
	}

	// delivered counts the webhook's delivered deliveries by the Payment Request each is about.
	delivered := func() map[string]int {
		list, _ := a.ok(http.MethodGet, "/mock/v1/webhooks/"+hook.str("webhook_id")+"/deliveries?limit=1000", nil).json["deliveries"].([]any)
		got := map[string]int{}
		for _, d := range list {
			if d, _ := d.(map[string]any); d["state"] == "DELIVERED" {
				got[d["subject"].(string)]++
			}
		}
		return got
	}
	first := func(got map[string]int) int {
		for i, id := range made {
			if got[id] > 0 {
				return i
			}
		}
		return len(made)
	}
	require.Eventually(t, func() bool {
		got := delivered()
		for _, id := range made[first(got):] {
			if got[id] == 0 {
				return false
			}
		}
		return first(got) <= after
	}, replicaWait, 10*time.Millisecond, "every change from the first delivered on is delivered, those begun after the registration among them")
	got := delivered()
	want := map[string]int{}
	for _, id := range made[first(got):] {
		want[id] = 1
	}
	require.Equal(t, want, got, "each delivered once, and nothing else")
}
