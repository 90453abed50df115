package testkit_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
	"github.com/klarna-mock/klarna-mock/testkit"
)

// staticWebhook is the id of the webhook testkit.WithWebhook configures.
const staticWebhook = "krn:partner:global:notification:webhook:static"

// stepUp is an initial authorize that steps up, creating a Payment Request.
const stepUp = `{"currency":"EUR","request_payment_transaction":{"amount":1000,"payment_transaction_reference":"order-1"},
	"step_up_config":{"customer_interaction_config":{"method":"SDK"}}}`

// requireStatus checks that err is the mock's answer with the status.
func requireStatus(t *testing.T, err error, status int) *testkit.StatusError {
	t.Helper()
	var se *testkit.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, status, se.Status, se.Body)
	return se
}

func TestFaultHelpers(t *testing.T) {
	t.Parallel()
	m := testkit.NewMock(t)
	a, b := m.ForKey("klarna_test_api_faults_a"), m.ForKey("klarna_test_api_faults_b")
	authorizePath := "/v2/accounts/" + account + "/payment/authorize"
	body := json.RawMessage(`{"currency":"EUR","request_payment_transaction":{"amount":1000}}`)

	retryAfter := 2
	f, err := a.AddFault(testkit.FaultDefinition{Operations: []testkit.FaultOperation{"authorize"}, Effect: "error", Status: 429, RetryAfter: &retryAfter, Count: 1})
	require.NoError(t, err)
	require.NotEmpty(t, f.ID)
	require.EqualValues(t, 1, *f.Remaining)
	list, err := a.Faults()
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, f.ID, list[0].ID)

	require.NoError(t, b.Do(http.MethodPost, authorizePath, b.APIKey, body, nil), "another tenant's fault leaves this one alone")
	se := requireStatus(t, a.Do(http.MethodPost, authorizePath, a.APIKey, body, nil), http.StatusTooManyRequests)
	require.Contains(t, se.Body, "RATE_LIMITED")
	require.NoError(t, a.Do(http.MethodPost, authorizePath, a.APIKey, body, nil), "the fault fired its count and retired")
	list, err = a.Faults()
	require.NoError(t, err)
	require.Empty(t, list)

	kept, err := a.AddFault(testkit.FaultDefinition{Operations: []testkit.FaultOperation{"all"}, Effect: "error"})
	require.NoError(t, err)
	requireStatus(t, b.DeleteFault(kept.ID), http.StatusNotFound)
	require.NoError(t, a.DeleteFault(kept.ID))
	requireStatus(t, a.DeleteFault(kept.ID), http.StatusNotFound)

	for range 2 {
		_, err = a.AddFault(testkit.FaultDefinition{Operations: []testkit.FaultOperation{"presentation"}, Effect: "latency", LatencyMS: 10})
		require.NoError(t, err)
	}
	require.NoError(t, a.ClearFaults())
	list, err = a.Faults()
	require.NoError(t, err)
	require.Empty(t, list)

	_, err = a.AddFault(testkit.FaultDefinition{Operations: []testkit.FaultOperation{"authorize"}, Effect: "explode"})
	se = requireStatus(t, err, http.StatusBadRequest)
	require.Contains(t, se.Body, "VALIDATION_ERROR")
	_, err = m.Faults()
	requireStatus(t, err, http.StatusUnauthorized)
}

// hookLog is a webhook listener that verifies signatures, answering 400 to a bad one, and
// counts what it took in.
type hookLog struct {
	secret string
	mu     sync.Mutex
	taken  int
}

func (h *hookLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if !webhook.Verify([]byte(h.secret), body, r.Header.Get(webhook.HeaderSignature)) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.taken++
	h.mu.Unlock()
}

func (h *hookLog) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.taken
}

func TestDeliveryHelpers(t *testing.T) {
	t.Parallel()
	hook := &hookLog{secret: "testkit-deliveries"}
	srv := httptest.NewServer(hook)
	t.Cleanup(srv.Close)
	m := testkit.NewMock(t, testkit.WithWebhook(srv.URL, hook.secret))
	c := m.ForKey("klarna_test_api_deliveries")

	require.NoError(t, c.PauseDeliveries())
	out := authorize(t, m, c.APIKey, http.Header{}, stepUp)
	prID := out["payment_request"].(map[string]any)["payment_request_id"].(string)
	require.Eventually(t, func() bool {
		st, err := c.DeliveryStatus()
		return err == nil && st.Paused && st.Pending == 1
	}, 5*time.Second, 5*time.Millisecond, "the submitted event waits for the resume")
	require.Zero(t, hook.count())

	require.NoError(t, c.ResumeDeliveries())
	require.NoError(t, c.SettleWebhooks(c.APIKey, 5*time.Second))
	st, err := c.DeliveryStatus()
	require.NoError(t, err)
	require.Equal(t, testkit.DeliveryStatus{}, *st)
	require.Equal(t, 1, hook.count())

	ds, err := c.WebhookDeliveries(staticWebhook)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	again, err := c.Redeliver(ds[0].DeliveryID)
	require.NoError(t, err)
	require.Equal(t, webhook.VariantRedelivery, again.Variant)
	require.Equal(t, ds[0].DeliveryID, again.ResentFrom)
	_, err = m.ForKey("klarna_test_api_someone_else").Redeliver(ds[0].DeliveryID)
	requireStatus(t, err, http.StatusNotFound)

	sent, err := c.SendWebhook(staticWebhook, testkit.SendInput{Resource: prID, Variant: webhook.VariantBadSignature})
	require.NoError(t, err)
	require.Len(t, sent, 1)
	require.NoError(t, c.SettleWebhooks(c.APIKey, 5*time.Second))
	ds, err = c.WebhookDeliveries(staticWebhook)
	require.NoError(t, err)
	require.Len(t, ds, 3)
	require.Equal(t, webhook.VariantBadSignature, ds[0].Variant)
	require.Equal(t, webhook.DeliveryFailed, ds[0].State, "the listener refused the forgery")
	require.Equal(t, 2, hook.count(), "the redelivery got through, the forgery did not")

	_, err = c.SendWebhook(staticWebhook, testkit.SendInput{Resource: prID, Variant: "sideways"})
	requireStatus(t, err, http.StatusBadRequest)
}

func TestStateHelpers(t *testing.T) {
	t.Parallel()
	m := testkit.NewMock(t)
	a, b := m.ForKey("klarna_test_api_state_a"), m.ForKey("klarna_test_api_state_b")
	out := authorize(t, m, a.APIKey, http.Header{}, stepUp)
	prID := out["payment_request"].(map[string]any)["payment_request_id"].(string)
	_, err := a.AddFault(testkit.FaultDefinition{Operations: []testkit.FaultOperation{"presentation"}, Effect: "error"})
	require.NoError(t, err)

	doc, err := a.ExportState()
	require.NoError(t, err)
	var parsed struct {
		Format          string `json:"format"`
		PaymentRequests []struct {
			ID string `json:"payment_request_id"`
		} `json:"payment_requests"`
	}
	require.NoError(t, json.Unmarshal(doc, &parsed))
	require.Equal(t, "klarna-mock-state/1", parsed.Format)
	require.Len(t, parsed.PaymentRequests, 1)
	require.Equal(t, prID, parsed.PaymentRequests[0].ID)

	_, err = b.ImportState(doc)
	requireStatus(t, err, http.StatusConflict) // the ids are still a's

	_, err = a.Reset()
	require.NoError(t, err)
	imported, err := b.ImportState(doc)
	require.NoError(t, err)
	require.True(t, imported.Imported)
	require.Equal(t, 1, imported.Objects["payment_requests"])
	require.Equal(t, 1, imported.Objects["faults"])
	pr, err := b.Approve(prID)
	require.NoError(t, err, "the imported Payment Request is b's now")
	require.Equal(t, "COMPLETED", pr.State)

	_, err = b.ImportState(json.RawMessage(`{"format":"klarna-mock-state/0"}`))
	se := requireStatus(t, err, http.StatusBadRequest)
	require.Contains(t, se.Body, "VALIDATION_ERROR")
	list, err := b.Faults()
	require.NoError(t, err)
	require.Len(t, list, 1, "a refused document changes nothing")
}
