package http_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/app"
	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// export reads the caller's state document, raw.
func (h *harness) export() string {
	h.t.Helper()
	r := h.do(http.MethodGet, "/mock/v1/state", nil)
	require.Equal(h.t, http.StatusOK, r.status, r.body)
	return r.body
}

// importState sends a state document.
func (h *harness) importState(doc string) response {
	h.t.Helper()
	return h.do(http.MethodPut, "/mock/v1/state", doc)
}

// settled waits until none of the caller's deliveries is due and no event waits to become one,
// so that its state stays as it is while the clock stands still.
func (h *harness) settled() {
	h.t.Helper()
	require.Eventually(h.t, func() bool {
		r := h.do(http.MethodGet, "/mock/v1/deliveries/due", nil)
		return r.status == http.StatusOK && r.get("count") == float64(0) && r.get("events_pending") == float64(0)
	}, 10*time.Second, 10*time.Millisecond)
}

// populate gives the harness's tenant some of every kind of state (fill's, and its own rules
// and a fault besides) and an authorized transaction charged with the customer token under an idempotency
// key, whose answer it returns, and waits until nothing of the tenant is due.
func (h *harness) populate(rcv *failingReceiver) (tenantState, response) {
	h.t.Helper()
	require.Equal(h.t, http.StatusOK, h.putRules(vipRules, "application/yaml").status)
	fault := h.do(http.MethodPost, "/mock/v1/faults", map[string]any{"operations": []string{"presentation"}, "effect": "error", "status": 503, "count": 2})
	require.Equal(h.t, http.StatusCreated, fault.status, fault.body)
	s := h.fill(rcv)
	charged := h.authorize(charge(2500, false, "sub-1"), "Klarna-Customer-Token", s.token, "Klarna-Idempotency-Key", "charge-1")
	require.Equal(h.t, "APPROVED", charged.str("payment_transaction_response.result"), charged.body)
	h.settled()
	return s, charged
}

// TestStateRoundTrip exports a tenant, resets it, imports the export and checks that the tenant
// exports the same again and that what it held works as before: the Payment Request steps up to
// a transaction, the token charges, the idempotency key answers as the first time, the
// deliveries are retried and the request expires on schedule.
func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rcv := newFailingReceiver(t)
	s, charged := h.populate(rcv)
	id, token := s.prID, s.token
	before := h.export()
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(before), &doc))
	require.Equal(t, app.StateFormat, doc["format"])
	require.Equal(t, "1h0m0s", doc["clock"].(map[string]any)["offset"])
	require.Len(t, doc["payment_requests"], 2)
	require.Len(t, doc["signing_keys"], 1)
	require.NotEmpty(t, doc["signing_keys"].([]any)[0].(map[string]any)["secret"], "the export carries the tenant's secrets")
	require.NotEmpty(t, doc["deliveries"])
	require.Len(t, doc["idempotency_records"], 2)

	reset := h.do(http.MethodPost, "/mock/v1/reset", nil)
	require.Equal(t, http.StatusOK, reset.status, reset.body)
	require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, h.path("/payment/requests/"+id), nil).status)

	imported := h.importState(before)
	require.Equal(t, http.StatusOK, imported.status, imported.body)
	require.Equal(t, true, imported.get("imported"))
	require.Equal(t, float64(2), imported.get("objects.payment_requests"))
	require.Equal(t, float64(1), imported.get("objects.webhooks"))
	require.JSONEq(t, before, h.export())
	require.Equal(t, "vip", h.rules().str("rules.0.name"), "the tenant's own rules came back")
	require.Equal(t, float64(2), h.do(http.MethodGet, "/mock/v1/faults", nil).get("faults.0.remaining"), "the fault came back")

	// The idempotency key answers the first answer again, without a second transaction.
	again := h.authorize(charge(2500, false, "sub-1"), "Klarna-Customer-Token", token, "Klarna-Idempotency-Key", "charge-1")
	require.Equal(t, charged.body, again.body)
	// The token charges, the step-up is approved and finalized.
	require.Equal(t, "APPROVED", h.authorize(charge(900, false, "sub-2"), "Klarna-Customer-Token", token).str("payment_transaction_response.result"))
	done := h.act(id, "approve")
	require.Equal(t, "COMPLETED", done.str("state"), done.body)
	final := h.authorize(finalAuthorize(1000, "USD"), "Klarna-Network-Session-Token", done.str("state_context.klarna_network_session_token"))
	require.Equal(t, "APPROVED", final.str("payment_transaction_response.result"), final.body)

	// The imported deliveries were waiting for a retry: it comes on the tenant's clock.
	attempts := rcv.hits.Load()
	h.advanceBy("PT1M")
	require.Eventually(t, func() bool { return rcv.hits.Load() > attempts }, 10*time.Second, 10*time.Millisecond)
}

// TestStateImportSchedulesExpiry checks that an imported Payment Request expires when its
// interaction window ends, and an imported transaction when its authorization lapses.
func TestStateImportSchedulesExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.stepUp(oneTime(11800))
	token := h.customerToken("payment:customer_not_present", "jane@example.com")
	tx := h.authorize(charge(2500, false, "sub-1"), "Klarna-Customer-Token", token).str("payment_transaction_response.payment_transaction.payment_transaction_id")
	doc := h.export()
	require.Equal(t, http.StatusOK, h.do(http.MethodPost, "/mock/v1/reset", nil).status)
	require.Equal(t, http.StatusOK, h.importState(doc).status)

	h.advanceBy("PT3H1M")
	require.Eventually(t, func() bool { return h.state(id) == "EXPIRED" }, 10*time.Second, 10*time.Millisecond)
	h.advanceBy("P29D")
	require.Eventually(t, func() bool {
		return h.do(http.MethodGet, h.path("/payment/transactions/"+tx), nil).str("state") == "EXPIRED"
	}, 10*time.Second, 10*time.Millisecond)
}

// withDocument returns doc with change applied to its decoded form.
func withDocument(t *testing.T, doc string, change func(map[string]any)) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(doc), &m))
	change(m)
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return string(out)
}

// withField is a copy of object with the fields and values of pairs set.
func withField(object map[string]any, pairs ...any) map[string]any {
	c := maps.Clone(object)
	for i := 0; i < len(pairs); i += 2 {
		c[pairs[i].(string)] = pairs[i+1]
	}
	return c
}

// shifted is the document's time at, moved by d.
func shifted(t *testing.T, at any, d time.Duration) string {
	t.Helper()
	parsed, err := time.Parse(time.RFC3339Nano, at.(string))
	require.NoError(t, err)
	return parsed.Add(d).Format(time.RFC3339Nano)
}

// first is the first object of a list of the document.
func first(m map[string]any, list string) map[string]any {
	return m[list].([]any)[0].(map[string]any)
}

// TestStateBadDocumentChangesNothing sends documents the import refuses and checks each answer
// names the problem and leaves the tenant as it was.
func TestStateBadDocumentChangesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s, _ := h.populate(newFailingReceiver(t))
	id := s.prID
	doc := h.export()
	for _, tc := range []struct {
		name   string
		doc    string
		status int
		code   string
		params []string
	}{
		{name: "not JSON", doc: "{", status: 400, code: "VALIDATION_ERROR", params: []string{"body"}},
		{name: "another format", doc: withDocument(t, doc, func(m map[string]any) { m["format"] = "klarna-mock-state/9" }),
			status: 400, code: "VALIDATION_ERROR", params: []string{"format"}},
		{name: "unknown field", doc: withDocument(t, doc, func(m map[string]any) { m["payment_request"] = []any{} }),
			status: 400, code: "VALIDATION_ERROR", params: []string{"body"}},
		{name: "bad objects", doc: withDocument(t, doc, func(m map[string]any) {
			first(m, "payment_requests")["state"] = "PONDERING"
			first(m, "customer_tokens")["customer_token"] = "not-a-token"
			first(m, "webhooks")["signing_key_id"] = "krn:partner:global:notification:signing-key:gone"
			first(m, "deliveries")["body"] = "not an envelope"
			m["rules"].(map[string]any)["document"] = "version: 1\nrules:\n  - name: a\n    then: {result: MAYBE}\n"
		}), status: 400, code: "VALIDATION_ERROR", params: []string{
			"rules.document", "payment_requests[0].state", "customer_tokens[0].customer_token",
			"webhooks[0].signing_key_id", "deliveries[0].body",
		}},
		{name: "delivery bodies whose metadata is not the envelope's", doc: withDocument(t, doc, func(m map[string]any) {
			deliveries := m["deliveries"].([]any)
			require.Len(t, deliveries, 2)
			body := func(i int) map[string]any { return deliveries[i].(map[string]any)["body"].(map[string]any) }
			body(0)["metadata"] = "x"
			body(1)["metadata"].(map[string]any)["occurred_at"] = "yesterday"
		}), status: 400, code: "VALIDATION_ERROR", params: []string{"deliveries[0].body", "deliveries[1].body"}},
		{name: "an id twice", doc: withDocument(t, doc, func(m map[string]any) {
			m["payment_requests"] = append(m["payment_requests"].([]any), first(m, "payment_requests"))
		}), status: 400, code: "VALIDATION_ERROR", params: []string{"payment_requests[2].payment_request_id"}},
		{name: "a partner account the key cannot use", doc: withDocument(t, doc, func(m map[string]any) {
			first(m, "payment_requests")["partner_account_id"] = "a/b"
		}), status: 400, code: "VALIDATION_ERROR", params: []string{"payment_requests[0].partner_account_id"}},
		{name: "a delivery for a webhook not in the document", doc: withDocument(t, doc, func(m map[string]any) {
			first(m, "deliveries")["webhook_id"] = webhook.WebhookIDPrefix + "gone"
		}), status: 400, code: "VALIDATION_ERROR", params: []string{"deliveries[0].webhook_id"}},
		{name: "webhooks the Notifications API refuses", doc: withDocument(t, doc, func(m map[string]any) {
			hook := first(m, "webhooks")
			hook["url"] = "x"
			hook["event_types"] = []any{"payment.request.state-change.pondering"}
			hook["event_version"] = "v1"
			m["webhooks"] = append(m["webhooks"].([]any), withField(hook, "webhook_id", webhook.WebhookIDPrefix+"metadata",
				"url", "http://169.254.169.254/latest/meta-data/", "event_types", []any{"*"}, "event_version", "v2"))
		}), status: 400, code: "VALIDATION_ERROR", params: []string{
			"webhooks[0].url", "webhooks[0].event_types[0]", "webhooks[0].event_version", "webhooks[1].url",
		}},
		{name: "a negative amount", doc: withDocument(t, doc, func(m map[string]any) {
			first(m, "payment_requests")["amount"] = -100
			first(m, "payment_transactions")["amount"] = -100
		}), status: 400, code: "VALIDATION_ERROR", params: []string{"payment_requests[0].amount", "payment_transactions[0].amount"}},
		{name: "a payment request the API would not have made", doc: withDocument(t, doc, func(m map[string]any) {
			pr := first(m, "payment_requests")
			pr["amount"] = 999
			pr["currency"], pr["request"].(map[string]any)["currency"] = "DOLLARS", "DOLLARS"
			pr["previous_state"], pr["state_reason"] = "WAITING", "BORED"
			pr["expires_at"] = shifted(t, pr["created_at"], 7*24*time.Hour)
			delete(pr, "state_context")
			second := m["payment_requests"].([]any)[1].(map[string]any)
			second["state"] = "COMPLETED"
			second["finalized_at"] = second["created_at"]
		}), status: 400, code: "VALIDATION_ERROR", params: []string{
			"payment_requests[0].amount", "payment_requests[0].currency", "payment_requests[0].previous_state",
			"payment_requests[0].state_reason", "payment_requests[0].expires_at", "payment_requests[0].state_context.customer_interaction",
			"payment_requests[1].completed_at", "payment_requests[1].state_context.klarna_network_session_token", "payment_requests[1].transaction_id",
		}},
		{name: "transactions capturing or refunding more than they may", doc: withDocument(t, doc, func(m map[string]any) {
			tr := first(m, "payment_transactions")
			at := tr["created_at"]
			tr["payment_captures"] = []any{map[string]any{"payment_capture_id": mockserver.PrefixPaymentCapture + "1", "captured_amount": 2501, "captured_at": at}}
			tr["payment_refunds"] = []any{map[string]any{"payment_refund_id": mockserver.PrefixPaymentRefund + "1", "refunded_amount": 2502, "refunded_at": at}}
			tr["operations"] = mockserver.MaxOperations + 1
			tr["payment_funding"].(map[string]any)["state"] = "EXPIRED"
		}), status: 400, code: "VALIDATION_ERROR", params: []string{
			"payment_transactions[0].payment_captures", "payment_transactions[0].payment_refunds",
			"payment_transactions[0].operations", "payment_transactions[0].payment_funding.state",
		}},
		{name: "a transaction in a state its amounts do not allow", doc: withDocument(t, doc, func(m map[string]any) {
			first(m, "payment_transactions")["state"] = "COMPLETED"
		}), status: 400, code: "VALIDATION_ERROR", params: []string{"payment_transactions[0].state"}},
		{name: "tokens, keys and records the API does not issue", doc: withDocument(t, doc, func(m map[string]any) {
			first(m, "customer_tokens")["scopes"] = []any{"payment:everything"}
			first(m, "signing_keys")["secret"] = "short"
			first(m, "idempotency_records")["status"] = 500
		}), status: 400, code: "VALIDATION_ERROR", params: []string{
			"customer_tokens[0].scopes[0]", "signing_keys[0].secret", "idempotency_records[0].status",
		}},
		{name: "a delivery the notifier would not have left", doc: withDocument(t, doc, func(m map[string]any) {
			d := first(m, "deliveries")
			d["state"] = "DELIVERED"
			attempts := d["attempts"].([]any)
			for len(attempts) <= webhook.MaxAttempts {
				attempts = append(attempts, attempts[0])
			}
			d["attempts"] = attempts
		}), status: 400, code: "VALIDATION_ERROR", params: []string{"deliveries[0].attempts", "deliveries[0].next_attempt_at"}},
		{name: "a fault the faults package refuses", doc: withDocument(t, doc, func(m map[string]any) {
			first(m, "faults")["effect"] = "explode"
		}), status: 400, code: "VALIDATION_ERROR", params: []string{"faults[0].effect", "faults[0].status"}},
		{name: "too large", doc: `{"format": "klarna-mock-state/1", "pad": "` + strings.Repeat("x", mockhttp.MaxStateBytes) + `"}`,
			status: 413, code: "PAYLOAD_TOO_LARGE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.within(t).importState(tc.doc)
			requireError(t, r, tc.status, tc.code, "")
			var got []string
			list, _ := r.get("validation_errors").([]any)
			for _, e := range list {
				got = append(got, e.(map[string]any)["parameter"].(string))
			}
			require.ElementsMatch(t, tc.params, got, r.body)
		})
	}
	require.JSONEq(t, doc, h.export(), "a refused document changes nothing")
	require.Equal(t, "SUBMITTED", h.state(id))
}

// TestStateQuota checks that a document holding more objects of a kind than the tenant may
// hold is refused with the quota named, and changes nothing.
func TestStateQuota(t *testing.T) {
	t.Parallel()
	big := newHarness(t)
	big.stepUp(oneTime(100))
	big.stepUp(oneTime(200))
	doc := big.export()
	small := newHarness(t, func(c *app.Config) { c.MaxObjectsPerTenant = 1 })
	id := small.stepUp(oneTime(300))
	before := small.export()
	r := small.importState(doc)
	requireError(t, r, http.StatusTooManyRequests, "QUOTA_EXCEEDED", "")
	require.Contains(t, r.str("error_message"), "--max-objects")
	require.JSONEq(t, before, small.export())
	require.Equal(t, "SUBMITTED", small.state(id))
}

// TestStateImportIntoAnotherTenant imports one tenant's export into another: refused while the
// ids are the first tenant's, accepted once it was reset, and a third tenant is never touched.
func TestStateImportIntoAnotherTenant(t *testing.T) {
	t.Parallel()
	a := newHarness(t)
	b := a.withKey(newKey())
	bystander := a.withKey(newKey())
	id := a.stepUp(oneTime(11800))
	a.customerToken("payment:customer_not_present", "jane@example.com")
	bystander.stepUp(oneTime(500))
	b.stepUp(oneTime(700))
	docA, docB, docBystander := a.export(), b.export(), bystander.export()

	requireError(t, b.importState(docA), http.StatusConflict, "ALREADY_EXISTS", "")
	require.JSONEq(t, docB, b.export(), "a refused import changes nothing")

	require.Equal(t, http.StatusOK, a.do(http.MethodPost, "/mock/v1/reset", nil).status)
	require.Equal(t, http.StatusOK, b.importState(docA).status)
	require.JSONEq(t, docA, b.export())
	require.Equal(t, http.StatusNotFound, a.do(http.MethodGet, a.path("/payment/requests/"+id), nil).status)
	require.Equal(t, "COMPLETED", b.act(id, "approve").str("state"))
	require.JSONEq(t, docBystander, bystander.export(), "another tenant is never touched")
}

// TestStateAccountsFile checks that with an accounts file a document is imported only into the
// account its objects belong to: another account's key is refused, naming the objects.
func TestStateAccountsFile(t *testing.T) {
	t.Parallel()
	accounts, err := mockhttp.LoadAccounts("accounts.yaml", []byte(`accounts:
  - api_key: klarna_test_api_team_a
    partner_account_id: krn:partner:global:account:test:TEAMA001
  - api_key: klarna_test_api_team_b
    partner_account_id: krn:partner:global:account:test:TEAMB001
`))
	require.NoError(t, err)
	h := newHarness(t, withAccounts(accounts))
	a := h.withKey("klarna_test_api_team_a").withAccount("krn:partner:global:account:test:TEAMA001")
	b := h.withKey("klarna_test_api_team_b").withAccount("krn:partner:global:account:test:TEAMB001")
	a.stepUp(oneTime(11800))
	doc := a.export()
	require.Equal(t, http.StatusOK, a.do(http.MethodPost, "/mock/v1/reset", nil).status)
	requireError(t, b.importState(doc), http.StatusBadRequest, "VALIDATION_ERROR", "payment_requests[0].partner_account_id")
	require.Equal(t, http.StatusOK, a.importState(doc).status)
	require.JSONEq(t, doc, a.export())
}

// TestStateImportAttemptsDueDeliveries checks that an imported delivery whose next attempt is
// due is attempted at once, without the clock moving.
func TestStateImportAttemptsDueDeliveries(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rcv := newFailingReceiver(t)
	h.fill(rcv)
	h.settled()
	doc := withDocument(t, h.export(), func(m map[string]any) {
		first(m, "deliveries")["next_attempt_at"] = m["clock"].(map[string]any)["now"]
	})
	require.Equal(t, http.StatusOK, h.do(http.MethodPost, "/mock/v1/reset", nil).status)
	attempts := rcv.hits.Load()
	require.Equal(t, http.StatusOK, h.importState(doc).status)
	require.Eventually(t, func() bool { return rcv.hits.Load() > attempts }, 10*time.Second, 10*time.Millisecond)
}

// everyFeature gives h's tenant state of every kind an API call leaves: populate's, a step-up
// finalized into a transaction captured in part and refunded, a token issued by a completed
// step-up, a canceled request, a voided charge, a delivered delivery, and the deliveries of a
// webhook deleted since. It waits until nothing of the tenant is due.
func (h *harness) everyFeature() {
	h.t.Helper()
	s, _ := h.populate(newFailingReceiver(h.t))
	id, nst := h.completedRequest(4000)
	final := h.authorize(finalAuthorize(4000, "USD"), "Klarna-Network-Session-Token", nst)
	require.Equal(h.t, "APPROVED", final.str("payment_transaction_response.result"), final.body)
	tx := final.str("payment_transaction_response.payment_transaction.payment_transaction_id")
	capture := h.capture(tx, map[string]any{"captured_amount": 1500}, http.StatusCreated).str("payment_capture_id")
	refund := h.do(http.MethodPost, h.transactionPath(tx, "/captures/"+capture+"/refunds"), map[string]any{"refunded_amount": 500})
	require.Equal(h.t, http.StatusCreated, refund.status, refund.body)
	require.Equal(h.t, id, h.request(id).str("payment_request_id"))

	issuing := h.stepUp(tokenCreation("payment:customer_present", true))
	require.Equal(h.t, "COMPLETED", h.act(issuing, "approve").str("state"))
	require.Equal(h.t, http.StatusOK, h.cancel(s.idempotentPR).status)
	voided := h.authorize(charge(700, false, "sub-void"), "Klarna-Customer-Token", s.token).str("payment_transaction_response.payment_transaction.payment_transaction_id")
	require.Equal(h.t, http.StatusOK, h.do(http.MethodPost, h.transactionPath(voided, "/void"), nil).status)

	for _, deleted := range []bool{false, true} {
		rcv := newHookReceiver(h.t, "")
		hook := h.do(http.MethodPost, notificationAPI+"/webhooks", map[string]any{"url": rcv.url, "event_types": []string{"payment.request.*"}, "signing_key_id": s.keyID})
		require.Equal(h.t, http.StatusCreated, hook.status, hook.body)
		hookID := hook.str("webhook_id")
		sim := h.do(http.MethodPost, notificationAPI+"/webhooks/"+hookID+"/simulate", map[string]any{"event_type": mockserver.EventRequestSubmitted, "event_version": "v2"})
		require.Equal(h.t, http.StatusAccepted, sim.status, sim.body)
		require.Eventually(h.t, func() bool {
			return h.do(http.MethodGet, "/mock/v1/deliveries/"+sim.str("delivery_id"), nil).str("state") == "DELIVERED"
		}, 10*time.Second, time.Millisecond)
		if deleted {
			require.Equal(h.t, http.StatusNoContent, h.do(http.MethodDelete, notificationAPI+"/webhooks/"+hookID, nil).status)
		}
	}
	h.settled()
}

// TestStateExportOfEveryFeatureImports exports a tenant that used every feature and imports
// the export into a fresh mock: an export is always a document the import takes, and the
// tenant there exports the same again. The deliveries of a deleted webhook are left out.
func TestStateExportOfEveryFeatureImports(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.everyFeature()
	doc := h.export()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(doc), &m))
	hooks := map[string]bool{}
	for _, w := range m["webhooks"].([]any) {
		hooks[w.(map[string]any)["webhook_id"].(string)] = true
	}
	require.Len(t, hooks, 2, "the deleted webhook is gone")
	states := map[string]bool{}
	for _, d := range m["deliveries"].([]any) {
		require.True(t, hooks[d.(map[string]any)["webhook_id"].(string)], "only deliveries of the document's webhooks are exported")
		states[d.(map[string]any)["state"].(string)] = true
	}
	require.Equal(t, map[string]bool{"PENDING": true, "DELIVERED": true}, states, "deliveries waiting for a retry and delivered ones")
	has := func(list, field string) bool {
		for _, o := range m[list].([]any) {
			if o.(map[string]any)[field] != nil {
				return true
			}
		}
		return false
	}
	for _, f := range [][2]string{
		{"payment_requests", "issued_token"}, {"payment_requests", "finalized_at"}, {"payment_requests", "canceled_at"},
		{"payment_transactions", "payment_refunds"}, {"payment_transactions", "released_amount"},
	} {
		require.True(t, has(f[0], f[1]), "the export has %s with %s", f[0], f[1])
	}

	fresh := newHarness(t)
	r := fresh.importState(doc)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, float64(len(m["payment_transactions"].([]any))), r.get("objects.payment_transactions"))
	require.JSONEq(t, doc, fresh.export())
}

// TestStateImportRefusesPrivateWebhooks imports a document whose webhook posts to a loopback
// address into a mock run with --webhook-refuse-private: refused as creating the webhook there
// would be, naming it, and nothing changes.
func TestStateImportRefusesPrivateWebhooks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fill(newFailingReceiver(t))
	h.settled()
	doc := h.export()

	strict := newHarness(t, func(c *app.Config) { c.WebhookRefusePrivate = true })
	id := strict.stepUp(oneTime(300))
	before := strict.export()
	requireError(t, strict.importState(doc), http.StatusBadRequest, "VALIDATION_ERROR", "webhooks[0].url")
	require.JSONEq(t, before, strict.export())
	require.Equal(t, "SUBMITTED", strict.state(id))
}

// TestStateStaticWebhookDeliveries checks that the deliveries to the static webhook
// (--webhook-url), which is configuration rather than in the document, are exported and
// imported again by a mock that has one.
func TestStateStaticWebhookDeliveries(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t, "s3cret")
	h := newHarness(t, withStaticWebhook(rcv.url, "s3cret"))
	h.stepUp(oneTime(1000))
	h.settled()
	doc := h.export()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(doc), &m))
	require.Equal(t, webhook.StaticWebhookID, first(m, "deliveries")["webhook_id"])
	require.Equal(t, http.StatusOK, h.do(http.MethodPost, "/mock/v1/reset", nil).status)
	r := h.importState(doc)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.JSONEq(t, doc, h.export())
}
