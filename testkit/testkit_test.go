package testkit_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
	"github.com/klarna-mock/klarna-mock/testkit"
)

const account = "krn:partner:global:account:test:TESTKIT1"

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// authorize sends an authorize as an Acquiring Partner would and returns the decoded answer.
func authorize(t *testing.T, m *testkit.Mock, key string, header http.Header, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, m.URL+"/v2/accounts/"+account+"/payment/authorize", bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header = header.Clone()
	req.Header.Set("Authorization", "Basic "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out))
	return out
}

func TestAStepUpWalkedThroughWithTheHelpers(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var events []string
	const secret = "testkit-secret"
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !webhook.Verify([]byte(secret), body, r.Header.Get(webhook.HeaderSignature)) {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var e struct {
			Metadata struct {
				EventType string `json:"event_type"`
			} `json:"metadata"`
		}
		_ = json.Unmarshal(body, &e)
		mu.Lock()
		events = append(events, e.Metadata.EventType)
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)

	m := testkit.NewMock(t, testkit.WithManualClock(start), testkit.WithWebhook(hook.URL, secret))
	const key = "klarna_test_api_testkit"

	out := authorize(t, m, key, http.Header{"Klarna-Idempotency-Key": {"k-1"}},
		`{"currency":"EUR","request_payment_transaction":{"amount":1000,"payment_transaction_reference":"order-1"},
		  "step_up_config":{"customer_interaction_config":{"method":"SDK"}}}`)
	prID := out["payment_request"].(map[string]any)["payment_request_id"].(string)

	pr, err := m.ForKey(key).Approve(prID)
	require.NoError(t, err)
	require.Equal(t, "COMPLETED", pr.State)
	require.NotEmpty(t, pr.StateContext.KlarnaNetworkSessionToken)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(events, "payment.request.state-change.completed")
	}, 5*time.Second, 5*time.Millisecond, "the completed webhook, signed with the secret")

	// The network session token's window is 60 minutes, on the mock's clock.
	require.Equal(t, start.Add(61*time.Minute), m.Advance(61*time.Minute))
	now, err := m.NowFor(key)
	require.NoError(t, err)
	require.Equal(t, start.Add(61*time.Minute), now)

	entries, err := m.Journal(key, account)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, "k-1", entries[0].Headers["Klarna-Idempotency-Key"])
	require.Contains(t, entries[0].Body, `"order-1"`)
	other, err := m.Journal("klarna_test_api_other", account)
	require.NoError(t, err)
	require.Empty(t, other, "each key has its own journal")
}

func TestFixturesAndAccounts(t *testing.T) {
	t.Parallel()
	m := testkit.NewMock(t,
		testkit.WithFixtures([]byte(`version: 1
rules:
  - name: everything declines
    when: {kind: one_time}
    then: {result: DECLINED, result_reason: RISK_REJECTED}
`)),
		testkit.WithAccounts([]byte(`accounts:
  - {api_key: klarna_test_api_ap, partner_account_id: `+account+`}
  - {api_key: klarna_test_api_partner, partner_account_id: `+account+`}
`)))
	out := authorize(t, m, "klarna_test_api_ap", http.Header{}, `{"currency":"EUR","request_payment_transaction":{"amount":1000}}`)
	require.Equal(t, "DECLINED", out["payment_transaction_response"].(map[string]any)["result"])

	// Keys of one account share its state: a token minted with one works with the other.
	nst, err := m.NetworkSessionToken("klarna_test_api_partner", account, "jane@example.com")
	require.NoError(t, err)
	out = authorize(t, m, "klarna_test_api_ap", http.Header{"Klarna-Network-Session-Token": {nst}},
		`{"currency":"EUR","request_customer_token":{"scopes":["payment:customer_present"]}}`)
	require.Equal(t, "APPROVED", out["customer_token_response"].(map[string]any)["result"])

	entries, err := m.Journal("klarna_test_api_ap", account)
	require.NoError(t, err)
	require.Len(t, entries, 3, "the account's journal holds both keys' calls")
	require.Equal(t, testkit.DefaultUserAgent, entries[1].Headers["User-Agent"], "the helpers' own calls are marked")

	_, err = m.ForKey("klarna_test_api_ap").Approve("krn:payment:eu1:request:00000000-0000-4000-8000-000000000000")
	var se *testkit.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusNotFound, se.Status)
}

func TestBadOptionsFailAtStart(t *testing.T) {
	t.Parallel()
	_, err := testkit.Start(testkit.WithFixtures([]byte("version: 2\nrules: []\n")))
	require.ErrorContains(t, err, "testkit fixtures:")
	_, err = testkit.Start(testkit.WithWebhook("http://127.0.0.1:1/", ""))
	require.Error(t, err)
	_, err = testkit.Start(testkit.WithAccounts([]byte("accounts: []\n")))
	require.Error(t, err)
}

func TestSettleWebhooksBeforeMovingTheClock(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	failing, delivered := true, 0
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		delivered++
	}))
	t.Cleanup(hook.Close)
	m := testkit.NewMock(t, testkit.WithManualClock(start), testkit.WithWebhook(hook.URL, "s"))
	const key = "klarna_test_api_settle"
	out := authorize(t, m, key, http.Header{}, `{"currency":"EUR","request_payment_transaction":{"amount":1000,"payment_transaction_reference":"order-1"},
		"step_up_config":{"customer_interaction_config":{"method":"SDK"}}}`)
	_, err := m.ForKey(key).Approve(out["payment_request"].(map[string]any)["payment_request_id"].(string))
	require.NoError(t, err)

	// Every first attempt fails; then nothing is due until the first retry, 10 s later.
	require.NoError(t, m.SettleWebhooks(key, 5*time.Second))
	due, err := m.WebhooksDue(key)
	require.NoError(t, err)
	require.Zero(t, due)
	report, err := m.DueDeliveries(key)
	require.NoError(t, err)
	require.Equal(t, start, report.Now)
	require.Empty(t, report.DeliveryIDs, "the retries wait on the clock")

	mu.Lock()
	failing = false
	mu.Unlock()
	m.Advance(11 * time.Second)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return delivered >= 1
	}, 5*time.Second, 5*time.Millisecond, "the retry is delivered")
	require.NoError(t, m.SettleWebhooks(key, 5*time.Second))
}

func TestEachTenantMovesItsOwnClock(t *testing.T) {
	t.Parallel()
	m := testkit.NewMock(t, testkit.WithManualClock(start))
	a, b := m.ForKey("klarna_test_api_tenant_a"), m.ForKey("klarna_test_api_tenant_b")

	moved, err := a.AdvanceClock(2 * time.Hour)
	require.NoError(t, err)
	require.Equal(t, start.Add(2*time.Hour), moved)
	now, err := b.Now()
	require.NoError(t, err)
	require.Equal(t, start, now, "another tenant's move leaves this tenant's clock alone")
	now, err = m.NowFor("klarna_test_api_tenant_a")
	require.NoError(t, err)
	require.Equal(t, start.Add(2*time.Hour), now)
	require.Equal(t, start, m.Clock.Now(), "a tenant's move leaves the base clock alone")

	// The test's own base clock moves every tenant.
	require.Equal(t, start.Add(time.Minute), m.Advance(time.Minute))
	now, err = a.Now()
	require.NoError(t, err)
	require.Equal(t, start.Add(2*time.Hour+time.Minute), now)
	now, err = b.Now()
	require.NoError(t, err)
	require.Equal(t, start.Add(time.Minute), now)

	_, err = m.AdvanceClock(time.Hour)
	var se *testkit.StatusError
	require.ErrorAs(t, err, &se, "the clock is a tenant's: a Control without a key is refused")
	require.Equal(t, http.StatusUnauthorized, se.Status)
	_, err = a.AdvanceClock(-time.Hour)
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusBadRequest, se.Status)
}

func TestResetLeavesNothingOfTheTenant(t *testing.T) {
	t.Parallel()
	m := testkit.NewMock(t, testkit.WithManualClock(start))
	a, b := m.ForKey("klarna_test_api_reset_a"), m.ForKey("klarna_test_api_reset_b")
	for _, c := range []*testkit.Control{a, b} {
		authorize(t, m, c.APIKey, http.Header{}, `{"currency":"EUR","request_payment_transaction":{"amount":1000,"payment_transaction_reference":"order-1"},
		  "step_up_config":{"customer_interaction_config":{"method":"SDK"}}}`)
		_, err := c.AdvanceClock(time.Hour)
		require.NoError(t, err)
	}
	require.Equal(t, 2, m.App.Tenants())

	removed, err := a.Reset()
	require.NoError(t, err)
	require.Positive(t, removed, "the Payment Request went")
	require.Equal(t, 1, m.App.Tenants(), "the tenant no longer counts")
	entries, err := m.Journal(a.APIKey, account)
	require.NoError(t, err)
	require.Empty(t, entries)
	now, err := a.Now()
	require.NoError(t, err)
	require.Equal(t, start, now, "the clock is back at the mock's base time")

	entries, err = m.Journal(b.APIKey, account)
	require.NoError(t, err)
	require.Len(t, entries, 1, "the other tenant keeps its journal")
	now, err = b.Now()
	require.NoError(t, err)
	require.Equal(t, start.Add(time.Hour), now, "and its clock")

	_, err = m.Reset()
	var se *testkit.StatusError
	require.ErrorAs(t, err, &se, "a Control without a key is refused")
	require.Equal(t, http.StatusUnauthorized, se.Status)
}
