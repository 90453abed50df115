package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/klarna-mock/klarna-mock/testkit"
)

// Klarna misbehaving, for resilience.feature: the mock's faults (POST /mock/v1/faults) make the
// Acquiring Partner's authorizes fail, hang or lose their answers, and the mock's webhook tools
// (POST /mock/v1/webhooks/{webhook_id}/send) send its listener duplicate, out-of-order and badly
// signed deliveries. Both act on the scenario's tenant alone, so they work on a shared mock
// too; contracts/mock-control.yaml describes them.

// suiteAttemptTimeout bounds each call the in-process Acquiring Partner makes to Klarna, so
// that a scenario in which Klarna does not answer ends in seconds.
const suiteAttemptTimeout = 2 * time.Second

// staticWebhookID names, at the mock, the webhook it was started with (--webhook-url).
const staticWebhookID = "krn:partner:global:notification:webhook:static"

// The duties of an Acquiring Partner towards a Klarna that misbehaves.
var (
	RuleHonourRetryAfter = Rule{"honour-retry-after",
		"the Acquiring Partner must not repeat a call Klarna rate limited sooner than the Retry-After Klarna answered with"}
	RuleGiveUpCleanly = Rule{"give-up-cleanly",
		"the Acquiring Partner must tell the Partner in time, with the temporary error contracts/acquirer.yaml names (503 KLARNA_UNAVAILABLE, 504 KLARNA_TIMEOUT), when Klarna stays unavailable, and complete the payment when the Partner retries with the same Idempotency-Key"}
	RuleOutOfOrderWebhook = Rule{"out-of-order-webhook",
		"the Acquiring Partner must take a Klarna webhook older than one it already acted on (2xx) without moving the payment back"}
)

// chaos is what a scenario made Klarna do wrong.
type chaos struct {
	// faults are the ids of the faults the scenario created at the mock, removed when it ends.
	faults []string
	// sent are the deliveries of the scenario's last send of a webhook, as the mock answered.
	sent []mockDelivery
}

// fault is a fault's definition (schema FaultDefinition of contracts/mock-control.yaml); the
// steps' faults hit the Acquiring Partner's authorizes.
type fault struct {
	Operations  []string `json:"operations"`
	Effect      string   `json:"effect"`
	Status      int      `json:"status,omitempty"`
	RetryAfter  int      `json:"retry_after,omitempty"`
	LatencyMS   int      `json:"latency_ms,omitempty"`
	Count       int      `json:"count,omitempty"`
	Description string   `json:"description,omitempty"`
}

// mockDelivery is a webhook delivery as the mock lists it (schema Delivery).
type mockDelivery struct {
	DeliveryID string `json:"delivery_id"`
	State      string `json:"state"`
	Subject    string `json:"subject"`
	Variant    string `json:"variant"`
	Event      struct {
		EventID   string `json:"event_id"`
		EventType string `json:"event_type"`
	} `json:"event"`
	Attempts []struct {
		StatusCode int    `json:"status_code"`
		Error      string `json:"error"`
	} `json:"attempts"`
}

// lastStatus is the Acquiring Partner's answer to the delivery's last attempt, 0 for none.
func (d mockDelivery) lastStatus() int {
	if len(d.Attempts) == 0 {
		return 0
	}
	return d.Attempts[len(d.Attempts)-1].StatusCode
}

func (d mockDelivery) describe() string {
	return fmt.Sprintf("%s delivery of %s (%s): %s after %d attempts, last answered %d", d.Variant, d.Event.EventType, d.Event.EventID, d.State, len(d.Attempts), d.lastStatus())
}

// resilienceSteps are the steps of resilience.feature.
func (w *World) resilienceSteps() []Step {
	return []Step{
		{"Given", `^Klarna rate limits the Acquiring Partner's (next authorize|authorizes), asking it to wait (\d+) seconds?$`,
			"Klarna answers the Acquiring Partner's next authorize (or every one, until Klarna is back to normal) with 429 RATE_LIMITED and that Retry-After, through a fault at the mock (POST /mock/v1/faults) that hits the scenario's tenant alone.",
			w.rateLimits},
		{"Given", `^Klarna answers the Acquiring Partner's next (\d+) authorizes? with (500|502|503|504)$`,
			"Klarna answers that many of the Acquiring Partner's next authorizes with that error and does nothing else, as a Klarna briefly unavailable.",
			w.failsNext},
		{"Given", `^Klarna answers every authorize with (500|502|503|504)$`,
			"Klarna answers every authorize of the Acquiring Partner with that error, until Klarna is back to normal.",
			w.failsAll},
		{"Given", `^Klarna carries out the Acquiring Partner's next authorize, but (the connection drops before the answer|its answer is cut off)$`,
			"Klarna authorizes as asked, then closes the connection without an answer, or after part of it (with the whole Content-Length promised): the answer is lost, what Klarna did is not.",
			w.losesAnswer},
		{"Given", `^Klarna does not answer the Acquiring Partner's next authorize in time$`,
			"Klarna holds the Acquiring Partner's next authorize without answering, longer than the Acquiring Partner waits (three times the in-process one's attempt timeout; against an Acquiring Partner the suite did not start, the mock's default of 60 s, shortened by its write timeout), then closes the connection; nothing is authorized.",
			w.hangsNext},
		{"Given", `^Klarna stops answering authorizes$`,
			"Klarna holds every authorize of the Acquiring Partner like the step before, until Klarna is back to normal.",
			w.hangsAll},

		{"When", `^Klarna is back to normal$`,
			"The faults the scenario made are removed: Klarna answers as usual again.",
			w.backToNormal},
		{"When", `^Klarna delivers the completion webhook (twice|with a bad signature)$`,
			"The mock sends the Acquiring Partner's webhook the last Payment Request's latest event (its completion) again: twice in a row under its own event id, or once under a new event id with a Klarna-Signature that does not verify (POST /mock/v1/webhooks/{webhook_id}/send, variants duplicate and bad_signature), and waits until the Acquiring Partner answered every delivery. Skipped when the suite cannot tell which webhook at the mock is the Acquiring Partner's.",
			w.sendsHostile},
		{"When", `^Klarna delivers an earlier webhook of the Payment Request after its completion$`,
			"The mock sends the Acquiring Partner's webhook the last Payment Request's completion and then the event before it, with their own event ids (variant out_of_order), and waits for the answers.",
			w.sendsOutOfOrder},

		{"Then", `^the Acquiring Partner did not retry sooner than the (\d+) seconds? Klarna asked for$`,
			"If the Acquiring Partner sent the last session's or charge's authorize more than once, the Partner waited at least that long for its answer (honour-retry-after).",
			w.honouredRetryAfter},
		{"Then", `^the Acquiring Partner tells the Partner that Klarna (is unavailable|did not answer in time)(?:, to retry after (\d+) seconds)?$`,
			"The last session or charge was answered 503 KLARNA_UNAVAILABLE, or 504 KLARNA_TIMEOUT, before the Partner gave up waiting (30 s), and, if said, with a Retry-After of at most that many seconds, passing on Klarna's (give-up-cleanly).",
			w.toldUnavailable},
		{"Then", `^the Partner's retry gets the (payment session|charge)$`,
			"The Partner's last retry with the same Idempotency-Key was answered 200 or 201 with the session or charge, which later steps look at (give-up-cleanly).",
			w.retryGets},
		{"Then", `^the Acquiring Partner acknowledged every delivery$`,
			"Every delivery of the last webhook the mock sent was answered 2xx (partner-told-once; out-of-order-webhook for an earlier event).",
			w.acknowledgedAll},
		{"Then", `^the Acquiring Partner refused the badly signed delivery$`,
			"The delivery with the bad signature was answered 4xx (verify-klarna-signature).",
			w.refusedBadlySigned},
		{"Then", `^the (payment session|charge) is still completed$`,
			"The Acquiring Partner reads the last session or charge as COMPLETED (out-of-order-webhook).",
			w.stillCompleted},
	}
}

// addFault creates f at the mock for the scenario's tenant; the scenario's end removes it.
func (w *World) addFault(f fault) error {
	f.Operations = []string{"authorize"}
	f.Description = "contract suite scenario " + w.id
	var created struct {
		FaultID string `json:"fault_id"`
	}
	if err := w.env.klarna.Do(http.MethodPost, "/mock/v1/faults", w.env.apKlarnaKey, f, &created); err != nil {
		var se *testkit.StatusError
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			return w.skip("the klarna-mock has no faults (POST /mock/v1/faults answered 404): it is older than the scenario")
		}
		return fmt.Errorf("making Klarna misbehave (POST /mock/v1/faults): %w", err)
	}
	if len(w.chaos.faults) == 0 {
		// Closers run before the scenario's own tenant is reset, and also leave nothing behind
		// in a fixed tenant (an Acquiring Partner the suite did not start).
		w.env.closers = append(w.env.closers, func() { _ = w.backToNormal() })
	}
	w.chaos.faults = append(w.chaos.faults, created.FaultID)
	return nil
}

func (w *World) rateLimits(which string, secs int) error {
	f := fault{Effect: "error", Status: http.StatusTooManyRequests, RetryAfter: secs}
	if which == "next authorize" {
		f.Count = 1
	}
	return w.addFault(f)
}

func (w *World) failsNext(n, status int) error {
	return w.addFault(fault{Effect: "error", Status: status, Count: n})
}

func (w *World) failsAll(status int) error {
	return w.addFault(fault{Effect: "error", Status: status})
}

func (w *World) losesAnswer(how string) error {
	effect := "drop"
	if how == "its answer is cut off" {
		effect = "truncate"
	}
	return w.addFault(fault{Effect: effect, Count: 1})
}

// hangFault holds an authorize past the Acquiring Partner's patience: the in-process one's is
// known; another's is not, so the mock holds it as long as it can.
func (w *World) hangFault(count int) fault {
	f := fault{Effect: "hang", Count: count}
	if w.env.cfg.InProcessAcquirer() {
		f.LatencyMS = int(3 * suiteAttemptTimeout / time.Millisecond)
	}
	return f
}

func (w *World) hangsNext() error { return w.addFault(w.hangFault(1)) }
func (w *World) hangsAll() error  { return w.addFault(w.hangFault(0)) }

// backToNormal removes the scenario's faults. A fault that fired its count is gone already, so
// a 404 is no failure.
func (w *World) backToNormal() error {
	var errs []error
	for _, id := range w.chaos.faults {
		err := w.env.klarna.Do(http.MethodDelete, "/mock/v1/faults/"+url.PathEscape(id), w.env.apKlarnaKey, nil, nil)
		var se *testkit.StatusError
		if err != nil && !(errors.As(err, &se) && se.Status == http.StatusNotFound) {
			errs = append(errs, fmt.Errorf("removing fault %s: %w", id, err))
		}
	}
	w.chaos.faults = nil
	return errors.Join(errs...)
}

func (w *World) honouredRetryAfter(secs int) error {
	o, auths, keys, err := w.initialKeys()
	if err != nil {
		return err
	}
	wait := time.Duration(secs) * time.Second
	if len(auths) > 1 && o.ans.Elapsed < wait {
		return broke(RuleHonourRetryAfter, "Klarna answered 429 with Retry-After: %d, yet the Acquiring Partner sent the authorize %d times (keys %q) within the %s the Partner waited for its answer",
			secs, len(auths), keys, o.ans.Elapsed.Round(time.Millisecond))
	}
	return nil
}

func (w *World) toldUnavailable(how, retryAfter string) error {
	o, err := w.currentOp()
	if err != nil {
		return err
	}
	status, code := http.StatusServiceUnavailable, "KLARNA_UNAVAILABLE"
	if how == "did not answer in time" {
		status, code = http.StatusGatewayTimeout, "KLARNA_TIMEOUT"
	}
	if o.ans.Status != status || o.ans.apError().ErrorCode != code {
		return broke(RuleGiveUpCleanly, "Klarna %s, so the %s should be answered %d %s; the Acquiring Partner answered %s after %s",
			how, o.what, status, code, o.describeAnswer(), o.ans.Elapsed.Round(time.Millisecond))
	}
	if retryAfter == "" {
		return nil
	}
	limit, err := strconv.Atoi(retryAfter)
	if err != nil {
		return err
	}
	got := o.ans.Header.Get("Retry-After")
	if secs, err := strconv.Atoi(got); err != nil || secs < 1 || secs > limit {
		return broke(RuleGiveUpCleanly, "Klarna asked for %d seconds, so the Partner should be told Retry-After: 1 to %d with its 503; it got %q", limit, limit, got)
	}
	return nil
}

func (w *World) retryGets(what string) error {
	o, err := w.currentOp()
	if err != nil {
		return err
	}
	if len(o.retries) == 0 {
		return errors.New("the Partner has not retried its request")
	}
	r := o.retries[len(o.retries)-1]
	res := &resource{}
	if (r.Status != http.StatusOK && r.Status != http.StatusCreated) || json.Unmarshal(r.Body, res) != nil || res.ID == "" {
		return broke(RuleGiveUpCleanly, "once Klarna was back, the Partner's retry of the %s should get it; the Acquiring Partner answered %d %s", what, r.Status, clip(string(r.Body), 300))
	}
	// The retry's answer is the Partner's payment from now on.
	o.ans, o.res = r, res
	return nil
}

func (w *World) stillCompleted(ctx context.Context, what string) error {
	o, r, err := w.readCurrent(ctx)
	if err != nil {
		return err
	}
	if r.Status != "COMPLETED" {
		return broke(RuleOutOfOrderWebhook, "after Klarna's earlier webhook the Acquiring Partner reads the %s %s as %s", what, o.res.ID, r.Status)
	}
	return nil
}

// klarnaWebhook returns the id, at the mock, of the webhook that reaches the Acquiring Partner
// with the Payment Request's events, or skips the scenario when the suite cannot tell.
func (w *World) klarnaWebhook(paymentRequestID string) (string, error) {
	if w.env.klarnaWebhookID != "" {
		return w.env.klarnaWebhookID, nil
	}
	// A mock started without --webhook-url has no start-up webhook: a 404, and nothing delivered.
	ds, err := w.webhookDeliveries(staticWebhookID)
	var se *testkit.StatusError
	if err != nil && !(errors.As(err, &se) && se.Status == http.StatusNotFound) {
		return "", err
	}
	if !slices.ContainsFunc(ds, func(d mockDelivery) bool { return d.Subject == paymentRequestID }) {
		return "", w.skip("the suite cannot tell which webhook at the klarna-mock is the Acquiring Partner's: the mock's start-up webhook " +
			"(--webhook-url) delivered nothing about the Payment Request, so the Acquiring Partner registered a webhook of its own")
	}
	return staticWebhookID, nil
}

// webhookDeliveries lists a webhook's latest deliveries at the mock, newest first.
func (w *World) webhookDeliveries(webhookID string) ([]mockDelivery, error) {
	var out struct {
		Deliveries []mockDelivery `json:"deliveries"`
	}
	path := "/mock/v1/webhooks/" + url.PathEscape(webhookID) + "/deliveries?limit=100"
	if err := w.env.klarna.Do(http.MethodGet, path, w.env.apKlarnaKey, nil, &out); err != nil {
		return nil, fmt.Errorf("reading the deliveries of webhook %s at the klarna-mock: %w", webhookID, err)
	}
	return out.Deliveries, nil
}

func (w *World) sendsHostile(ctx context.Context, how string) error {
	variant := "duplicate"
	if how == "with a bad signature" {
		variant = "bad_signature"
	}
	return w.sendWebhook(ctx, variant)
}

func (w *World) sendsOutOfOrder(ctx context.Context) error { return w.sendWebhook(ctx, "out_of_order") }

// sendWebhook has the mock send the Acquiring Partner's webhook the latest event of the last
// Payment Request in variant, and waits until every delivery of the send is answered.
func (w *World) sendWebhook(ctx context.Context, variant string) error {
	o, err := w.journeyOp()
	if err != nil {
		return err
	}
	pr := o.res.PaymentRequestID
	webhookID, err := w.klarnaWebhook(pr)
	if err != nil {
		return err
	}
	var sent struct {
		Deliveries []mockDelivery `json:"deliveries"`
	}
	path := "/mock/v1/webhooks/" + url.PathEscape(webhookID) + "/send"
	body := map[string]string{"resource": pr, "variant": variant}
	if err := w.env.klarna.Do(http.MethodPost, path, w.env.apKlarnaKey, body, &sent); err != nil {
		return fmt.Errorf("having Klarna send the %s webhook (POST %s): %w", variant, path, err)
	}
	ids := make([]string, len(sent.Deliveries))
	for i, d := range sent.Deliveries {
		ids[i] = d.DeliveryID
	}
	var answered []mockDelivery
	done := w.eventually(ctx, func() bool {
		ds, err := w.webhookDeliveries(webhookID)
		if err != nil {
			return false
		}
		answered = answered[:0]
		for _, d := range ds {
			if slices.Contains(ids, d.DeliveryID) && d.lastStatus() != 0 {
				answered = append(answered, d)
			}
		}
		return len(answered) == len(ids)
	})
	if !done {
		return fmt.Errorf("the Acquiring Partner answered %d of the %d %s deliveries within %s", len(answered), len(ids), variant, w.env.cfg.WaitTimeout)
	}
	w.chaos.sent = answered
	return nil
}

func (w *World) acknowledgedAll() error {
	if len(w.chaos.sent) == 0 {
		return errors.New("Klarna sent no webhook in this scenario")
	}
	for _, d := range w.chaos.sent {
		if s := d.lastStatus(); s < 200 || s > 299 {
			rule := RulePartnerToldOnce
			if d.Variant == "out_of_order" {
				rule = RuleOutOfOrderWebhook
			}
			return broke(rule, "Klarna delivers at least once and in any order, so every delivery must be acknowledged with 2xx: %s", d.describe())
		}
	}
	return nil
}

func (w *World) refusedBadlySigned() error {
	for _, d := range w.chaos.sent {
		if d.Variant != "bad_signature" {
			continue
		}
		if s := d.lastStatus(); s < 400 || s > 499 {
			return broke(RuleVerifyKlarnaSignature, "a webhook Klarna did not sign must be refused with 4xx: %s", d.describe())
		}
		return nil
	}
	return errors.New("Klarna sent no badly signed webhook in this scenario")
}
