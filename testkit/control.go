package testkit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/klarna-mock/klarna-mock/internal/httpclient"
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/faults"
	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// DefaultUserAgent is the User-Agent of a Control's requests. It shows in the journal, so a
// test can tell its own calls to Klarna's API from those of the code under test.
const DefaultUserAgent = "klarna-mock-testkit"

// PaymentRequest is a Payment Request as the mock answers it.
type PaymentRequest = mockserver.PaymentRequest

// JournalEntry is one request an account sent to Klarna's API, as the mock received it.
type JournalEntry = mockhttp.JournalEntry

// JournalWarning is a body field of a journaled request that the contract of Klarna's API does
// not describe and the mock accepted (JournalEntry.Warnings): a field Klarna does not document.
type JournalWarning = mockhttp.Warning

// Control acts on a klarna-mock through its HTTP API: as the customer in the Purchase Journey, on
// the clock, on the journal of what an account sent, on the webhook deliveries (what is due,
// pause and resume, redelivery, hostile sends), on faults, and on the tenant's state (export,
// import, reset). It works against any klarna-mock, in process (Mock embeds one) or started
// elsewhere (testkit.Control{URL: "http://127.0.0.1:8480", APIKey: key}). It is safe for
// concurrent use.
//
// The mock is shared by tenants (one per API key, or per partner account with an accounts file),
// and its control API is each tenant's own: every /mock/v1 call needs the tenant's key, and the
// clock it reads and moves is that tenant's alone.
type Control struct {
	// URL is the mock's base URL, without a trailing slash.
	URL string
	// APIKey is the tenant's API key, sent by the methods that take none: the customer's
	// journey actions (Act, Approve, Decline), the clock (AdvanceClock, Now), faults (AddFault,
	// ...), the delivery tools (PauseDeliveries, Redeliver, SendWebhook, ...), ExportState,
	// ImportState and Reset.
	APIKey string
	// HTTP sends the requests; nil means a client with a 10-second timeout.
	HTTP *http.Client
	// UserAgent marks the requests; empty means DefaultUserAgent.
	UserAgent string
}

var defaultClient = &http.Client{Timeout: 10 * time.Second}

// StatusError is a mock's error answer.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("klarna-mock: %s %s answered %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// Do sends a request to the mock: body (if not nil) as JSON, apiKey (if not empty) as
// "Authorization: Basic <apiKey>", and decodes a 2xx answer into out (if not nil). Any other
// status is a *StatusError. POSTs carry a fresh Klarna-Idempotency-Key. It is DoContext with
// context.Background().
func (c *Control) Do(method, path, apiKey string, body, out any) error {
	return c.DoContext(context.Background(), method, path, apiKey, body, out)
}

// DoContext is Do under ctx: cancelling ctx abandons the request.
func (c *Control) DoContext(ctx context.Context, method, path, apiKey string, body, out any) error {
	req, err := httpclient.NewJSONRequest(ctx, method, strings.TrimRight(c.URL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("klarna-mock: %s %s: %w", method, path, err)
	}
	if apiKey != "" {
		req.Header.Set("Authorization", "Basic "+apiKey)
	}
	if method == http.MethodPost {
		req.Header.Set("Klarna-Idempotency-Key", uuid.NewString())
	}
	ua := c.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	req.Header.Set("User-Agent", ua)
	client := c.HTTP
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("klarna-mock: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("klarna-mock: reading %s %s: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{Method: method, Path: path, Status: resp.StatusCode, Body: string(raw)}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("klarna-mock: decoding %s %s: %w", method, path, err)
		}
	}
	return nil
}

// Act carries out a customer's action in the Purchase Journey of a Payment Request: "open",
// "approve", "decline", "back-out" or "abandon" (see mock-control.yaml), and returns the Payment
// Request afterwards. It acts as c.APIKey's tenant: the Payment Request must be that tenant's.
func (c *Control) Act(paymentRequestID, action string) (*PaymentRequest, error) {
	pr := &PaymentRequest{}
	err := c.Do(http.MethodPost, "/mock/v1/payment-requests/"+url.PathEscape(paymentRequestID)+"/"+url.PathEscape(action), c.APIKey, nil, pr)
	if err != nil {
		return nil, err
	}
	return pr, nil
}

// Approve completes the Purchase Journey as the customer: the Payment Request becomes COMPLETED
// with its klarna_network_session_token (and any customer token asked for).
func (c *Control) Approve(paymentRequestID string) (*PaymentRequest, error) {
	return c.Act(paymentRequestID, string(mockserver.JourneyApprove))
}

// Decline makes Klarna decline the customer in the Purchase Journey (DECLINED).
func (c *Control) Decline(paymentRequestID string) (*PaymentRequest, error) {
	return c.Act(paymentRequestID, string(mockserver.JourneyDecline))
}

// ForKey returns a copy of c acting as the tenant of apiKey (see APIKey).
func (c *Control) ForKey(apiKey string) *Control {
	k := *c
	k.APIKey = apiKey
	return &k
}

// clockState is the mock's answer about a tenant clock.
type clockState struct {
	Now time.Time `json:"now"`
}

// AdvanceClock is AdvanceClockFor with c.APIKey.
func (c *Control) AdvanceClock(d time.Duration) (time.Time, error) {
	return c.AdvanceClockFor(c.APIKey, d)
}

// AdvanceClockFor moves the clock of apiKey's tenant forward through the mock's HTTP API, firing
// that tenant's expiries and webhook retries that fall due on the way, and returns its new time.
// Other tenants' clocks do not move.
func (c *Control) AdvanceClockFor(apiKey string, d time.Duration) (time.Time, error) {
	var out clockState
	err := c.Do(http.MethodPost, "/mock/v1/clock/advance", apiKey, map[string]string{"duration": d.String()}, &out)
	return out.Now, err
}

// Now is NowFor with c.APIKey.
func (c *Control) Now() (time.Time, error) {
	return c.NowFor(c.APIKey)
}

// NowFor reads the clock of apiKey's tenant: the mock's time plus every move that tenant made.
func (c *Control) NowFor(apiKey string) (time.Time, error) {
	var out clockState
	err := c.Do(http.MethodGet, "/mock/v1/clock", apiKey, nil, &out)
	return out.Now, err
}

// Reset wipes c.APIKey's tenant at the mock (POST /mock/v1/reset): every object of it, live ones
// too (active customer tokens, webhooks, signing keys), its deliveries and their retries, its
// journal and its clock's moves. The tenant no longer counts against the mock's --max-tenants;
// its next call starts a new, empty one. Another tenant is not touched. It returns how many
// stored objects the tenant held. A test sharing a long-lived mock calls it when it ends (with
// its own key, never one others use), so that it leaves nothing behind.
func (c *Control) Reset() (int, error) {
	var out struct {
		ObjectsRemoved int `json:"objects_removed"`
	}
	err := c.Do(http.MethodPost, "/mock/v1/reset", c.APIKey, nil, &out)
	return out.ObjectsRemoved, err
}

// Journal returns what an account (and, without an accounts file, this API key) sent to Klarna's
// API, oldest first: method, path, query, headers, raw body, the status answered and the
// undocumented body fields the mock accepted (Warnings).
func (c *Control) Journal(apiKey, account string) ([]JournalEntry, error) {
	return c.JournalSince(apiKey, account, 0, "")
}

// JournalSince is Journal limited to entries after the sequence number since whose path
// contains pathContains (both optional: 0 and "").
func (c *Control) JournalSince(apiKey, account string, since uint64, pathContains string) ([]JournalEntry, error) {
	q := url.Values{}
	if since > 0 {
		q.Set("since", strconv.FormatUint(since, 10))
	}
	if pathContains != "" {
		q.Set("path_contains", pathContains)
	}
	path := "/mock/v1/accounts/" + url.PathEscape(account) + "/journal"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out struct {
		Entries []JournalEntry `json:"entries"`
	}
	if err := c.Do(http.MethodGet, path, apiKey, nil, &out); err != nil {
		return nil, err
	}
	return out.Entries, nil
}

// NetworkSessionToken mints an interoperability token, which Klarna's APIs take as a Klarna
// Network Session Token, standing for a customer Klarna has identified in a Klarna Express
// Checkout session and who consents to a customer token. It calls Klarna's test-tokens endpoint
// with its customer_journey and the mock's email, which takes part in the mock's magic values
// (+denied@ declines).
func (c *Control) NetworkSessionToken(apiKey, account, email string) (string, error) {
	var out mockserver.TestToken
	err := c.Do(http.MethodPost, "/v2/accounts/"+url.PathEscape(account)+"/interoperability/test-tokens", apiKey,
		mockserver.TestTokenRequest{CustomerJourney: mockserver.CustomerJourneyExpressCheckout, Email: email}, &out)
	return out.InteroperabilityToken, err
}

// CancelPaymentRequest cancels a Payment Request through Klarna's API, as its Partner would
// (state CANCELED, state_reason PARTNER_CANCELED).
func (c *Control) CancelPaymentRequest(apiKey, account, paymentRequestID string) (*PaymentRequest, error) {
	pr := &PaymentRequest{}
	err := c.Do(http.MethodDelete, "/v2/accounts/"+url.PathEscape(account)+"/payment/requests/"+url.PathEscape(paymentRequestID), apiKey, nil, pr)
	if err != nil {
		return nil, err
	}
	return pr, nil
}

// RevokeCustomerToken revokes a customer token: later charges with it are refused.
func (c *Control) RevokeCustomerToken(apiKey, account, customerToken string) error {
	return c.Do(http.MethodPost, "/mock/v1/accounts/"+url.PathEscape(account)+"/customer-tokens/"+url.PathEscape(customerToken)+"/revoke", apiKey, nil, nil)
}

// DueReport is what the mock will still do for an account's webhooks without its clock moving
// (GET /mock/v1/deliveries/due).
type DueReport = webhook.DueReport

// DueDeliveries asks the mock which webhook deliveries of the API key's account are due now on
// its clock, and how many of the account's events are not yet turned into deliveries.
func (c *Control) DueDeliveries(apiKey string) (*DueReport, error) {
	out := &DueReport{}
	if err := c.Do(http.MethodGet, "/mock/v1/deliveries/due", apiKey, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}

// WebhooksDue counts what the mock still has to do for the API key's account's webhooks without
// its clock moving: the deliveries due now (queued, being attempted, or whose retry time has
// come) and the events not yet turned into deliveries. Deliveries delivered, failed, waiting for
// a retry later on the mock's clock, or held behind an earlier delivery about the same resource
// (the mock delivers those in order) do not count. The mock works it out from its queues.
func (c *Control) WebhooksDue(apiKey string) (int, error) {
	d, err := c.DueDeliveries(apiKey)
	if err != nil {
		return 0, err
	}
	return d.Count + d.EventsPending, nil
}

// SettleWebhooks waits, up to timeout, until nothing is due for the API key's account's webhooks
// (WebhooksDue is 0). Call it before moving the clock: a delivery still queued or in flight
// schedules its retry from the clock's time when its attempt fails, so a move made meanwhile
// would not walk past that retry. Once nothing is due, every retry is scheduled, and the move
// fires each one it passes.
func (c *Control) SettleWebhooks(apiKey string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n, err := c.WebhooksDue(apiKey)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("klarna-mock: %d webhook deliveries or events still due after %s", n, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Fault is one of a tenant's faults as the mock shows it: its definition, with the defaults it
// took, its fault_id, how often it fired and how many calls it will still hit (docs/faults.md).
type Fault = faults.View

// FaultOperation names the calls a fault hits: "authorize", "payment_request_read", ...,
// "all" (the constants of package mockserver/faults, docs/faults.md).
type FaultOperation = faults.Operation

// FaultDefinition is what a fault does: which operations it hits, when, with which effect and
// how often (the body of POST /mock/v1/faults, docs/faults.md).
type FaultDefinition = faults.Definition

// AddFault gives c.APIKey's tenant a fault, which makes the mock misbehave for that tenant's
// calls of Klarna's API alone, and returns it as the mock shows it. A definition the mock refuses
// is a *StatusError (400 VALIDATION_ERROR naming each bad field).
func (c *Control) AddFault(def FaultDefinition) (*Fault, error) {
	out := &Fault{}
	if err := c.Do(http.MethodPost, "/mock/v1/faults", c.APIKey, def, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Faults lists c.APIKey's tenant's faults, oldest first, with how often each fired. A fault
// with a count leaves the list once it has hit that many calls.
func (c *Control) Faults() ([]Fault, error) {
	var out struct {
		Faults []Fault `json:"faults"`
	}
	if err := c.Do(http.MethodGet, "/mock/v1/faults", c.APIKey, nil, &out); err != nil {
		return nil, err
	}
	return out.Faults, nil
}

// DeleteFault removes one of c.APIKey's tenant's faults; another tenant's fault, or one retired
// already, is a *StatusError 404.
func (c *Control) DeleteFault(faultID string) error {
	return c.Do(http.MethodDelete, "/mock/v1/faults/"+url.PathEscape(faultID), c.APIKey, nil, nil)
}

// ClearFaults removes every fault of c.APIKey's tenant.
func (c *Control) ClearFaults() error {
	return c.Do(http.MethodDelete, "/mock/v1/faults", c.APIKey, nil, nil)
}

// DeliveryStatus tells whether a tenant's webhook deliveries are paused and how many are pending
// and being attempted.
type DeliveryStatus = webhook.DeliveryStatus

// PauseDeliveries holds c.APIKey's tenant's webhook deliveries: no attempt of the tenant starts
// until ResumeDeliveries, and a delivery that falls due meanwhile waits without failing or using
// up an attempt. Other tenants' deliveries go on.
func (c *Control) PauseDeliveries() error {
	return c.Do(http.MethodPost, "/mock/v1/deliveries/pause", c.APIKey, nil, nil)
}

// ResumeDeliveries ends the pause of c.APIKey's tenant's deliveries: what waited is sent, in
// the order it fell due.
func (c *Control) ResumeDeliveries() error {
	return c.Do(http.MethodPost, "/mock/v1/deliveries/resume", c.APIKey, nil, nil)
}

// DeliveryStatus reads whether c.APIKey's tenant's deliveries are paused, and how many are
// pending and in flight.
func (c *Control) DeliveryStatus() (*DeliveryStatus, error) {
	out := &DeliveryStatus{}
	if err := c.Do(http.MethodGet, "/mock/v1/deliveries/status", c.APIKey, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Delivery is one webhook delivery of an event, with its attempts, as the mock's delivery log
// shows it.
type Delivery = webhook.Delivery

// WebhookDeliveries returns the deliveries of c.APIKey's tenant's webhook, newest first, each
// with its attempts; the mock answers at most its default page of them.
func (c *Control) WebhookDeliveries(webhookID string) ([]*Delivery, error) {
	return c.deliveries(http.MethodGet, "/mock/v1/webhooks/"+url.PathEscape(webhookID)+"/deliveries", nil)
}

// Redeliver makes a new delivery of the event a delivery of c.APIKey's tenant carried (the same
// body, event_id included) to the same webhook, attempted at once, and returns it; the old
// delivery stays as it was.
func (c *Control) Redeliver(deliveryID string) (*Delivery, error) {
	out := &Delivery{}
	if err := c.Do(http.MethodPost, "/mock/v1/deliveries/"+url.PathEscape(deliveryID)+"/redeliver", c.APIKey, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}

// SendInput names an event of the tenant's resources (by delivery_id, event_id or resource) and
// how to send it again: its Variant, one of "normal", "duplicate", "out_of_order",
// "bad_signature" and "stale_timestamp" (docs/webhooks.md, "Hostile webhooks").
type SendInput = webhook.SendInput

// SendWebhook sends an event c.APIKey's tenant's resources already produced to one of its
// webhooks again, plain or hostile as in.Variant says, to test a listener, and returns the new
// deliveries in the order they go out.
func (c *Control) SendWebhook(webhookID string, in SendInput) ([]*Delivery, error) {
	return c.deliveries(http.MethodPost, "/mock/v1/webhooks/"+url.PathEscape(webhookID)+"/send", in)
}

// deliveries sends a request answered with {"deliveries": [...]}, and returns them.
func (c *Control) deliveries(method, path string, body any) ([]*Delivery, error) {
	var out struct {
		Deliveries []*Delivery `json:"deliveries"`
	}
	if err := c.Do(method, path, c.APIKey, body, &out); err != nil {
		return nil, err
	}
	return out.Deliveries, nil
}

// StateImport is the mock's answer to an imported state document: how many objects of each
// kind the tenant now holds.
type StateImport struct {
	Imported bool           `json:"imported"`
	Objects  map[string]int `json:"objects"`
}

// ExportState returns everything the mock keeps of c.APIKey's tenant as one JSON document
// (GET /mock/v1/state, docs/state.md), to save and import later with ImportState, into this
// mock or another, under this key or another.
func (c *Control) ExportState() (json.RawMessage, error) {
	var out json.RawMessage
	if err := c.Do(http.MethodGet, "/mock/v1/state", c.APIKey, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// ImportState replaces c.APIKey's tenant's state with doc, a document ExportState returned
// (PUT /mock/v1/state). The mock checks the whole document first: one it refuses is a
// *StatusError (400 VALIDATION_ERROR naming each problem, 409, 413 or 429) and changes nothing.
func (c *Control) ImportState(doc json.RawMessage) (*StateImport, error) {
	out := &StateImport{}
	if err := c.Do(http.MethodPut, "/mock/v1/state", c.APIKey, doc, out); err != nil {
		return nil, err
	}
	return out, nil
}
