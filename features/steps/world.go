package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/klarna-mock/klarna-mock/testkit"
)

// Usages of a customer token, as the Partner API names them, and the Klarna scope each needs.
const (
	UsageOnDemand     = "ON_DEMAND"
	UsageSubscription = "SUBSCRIPTION"
)

func scopeOf(usage string) string {
	if usage == UsageSubscription {
		return "payment:customer_not_present"
	}
	return "payment:customer_present"
}

// resource is a Session or a Charge as the Acquiring Partner answers it.
type resource struct {
	ID                   string          `json:"id"`
	Object               string          `json:"object"`
	Status               string          `json:"status"`
	DeclineReason        string          `json:"decline_reason"`
	Reference            string          `json:"reference"`
	Currency             string          `json:"currency"`
	Amount               int64           `json:"amount"`
	Mode                 string          `json:"mode"`
	CustomerPresent      bool            `json:"customer_present"`
	PaymentRequestID     string          `json:"payment_request_id"`
	PaymentRequestURL    string          `json:"payment_request_url"`
	ActionExpiresAt      *time.Time      `json:"action_expires_at"`
	PaymentTransactionID string          `json:"payment_transaction_id"`
	CustomerToken        json.RawMessage `json:"customer_token"`
}

// tokenResource is a customer token as the Acquiring Partner gives it: its own and Klarna's.
type tokenResource struct {
	CustomerToken       string   `json:"customer_token"`
	KlarnaCustomerToken string   `json:"klarna_customer_token"`
	Usage               string   `json:"usage"`
	Scopes              []string `json:"scopes"`
	SessionID           string   `json:"session_id"`
}

// token returns the customer token a session carries, or nil.
func tokenOf(raw json.RawMessage) *tokenResource {
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	t := &tokenResource{}
	if json.Unmarshal(raw, t) != nil || t.CustomerToken == "" {
		return nil
	}
	return t
}

// op is one thing the Partner asked the Acquiring Partner (or Klarna) for, with what it sent,
// what it got, and the journal's sequence numbers around the call.
type op struct {
	kind      string // "session", "charge", "payment-methods", "presentation"
	what      string // "payment session", "charge", ... for messages
	path      string
	body      map[string]any
	header    http.Header
	key       string // the Partner key it was sent with
	idemKey   string
	reference string
	currency  string
	amount    int64
	// usage is the token a session asks for ("" for none).
	usage           string
	customerPresent bool
	mode            string
	// nst and networkData are the Klarna Network fields the Partner gave.
	nst, networkData string
	// klarnaToken is the Klarna customer token behind the AP token charged or presented with.
	klarnaToken string

	before, after uint64
	ans           *Answer
	res           *resource
	retries       []*Answer
	// journey is the Payment Request after the customer's last action in the Purchase Journey.
	journey *testkit.PaymentRequest
}

// World is the state of one scenario: the systems it runs against and what the Partner and the
// customer did. Steps of a team's own suite reach it with Must or FromContext, and act and look
// through its exported methods: CallAcquirer and Answers (the Partner's side), Klarna,
// KlarnaCredentials and Journal (Klarna's side).
type World struct {
	env *env
	id  string
	seq int

	// The Partner's checkout.
	mode        string // REDIRECT or SDK
	email       string
	marker      string // "decline" or "stepup": Klarna's verdict on the next purchase
	nst         string
	networkData string
	oldNames    bool
	token       *tokenResource // the customer's saved token
	otherToken  *tokenResource // another Partner's customer's token

	ops     []*op
	current *op // the last session or charge
	methods *op // the last payment-methods or presentation call
	// answers are the Acquiring Partner's answers to the Partner, oldest first.
	answers []*Answer
	// webhookStatus is the Acquiring Partner's answer to the last webhook the suite posted.
	webhookStatus int
	webhookBody   string
	// skip reports that the scenario cannot run in this setup, and why (Suite.skip).
	skip func(reason string) error
	// chaos is what the scenario made Klarna do wrong (resilience.go).
	chaos chaos
	// operation is the Partner's last capture, refund or release (steps_capture.go).
	operation *operation

	mu sync.Mutex
}

type worldKey struct{}

// FromContext returns the World of the scenario a step runs in, or nil.
func FromContext(ctx context.Context) *World {
	w, _ := ctx.Value(worldKey{}).(*World)
	return w
}

// AcquirerURL is the Acquiring Partner's base URL for this scenario.
func (w *World) AcquirerURL() string { return w.env.acquirerURL }

// PartnerKey is the Partner's API key at the Acquiring Partner for this scenario.
func (w *World) PartnerKey() string { return w.env.partnerKey }

// Klarna is the client of the scenario's klarna-mock, acting as the scenario's tenant there (its
// APIKey is the Acquiring Partner's key): the customer's Purchase Journey, the tenant's clock,
// the journal, and any call to Klarna's API (Control.Do, with KlarnaCredentials).
func (w *World) Klarna() *testkit.Control { return w.env.klarna }

// KlarnaCredentials are the Acquiring Partner's API key and partner account id at the mock:
// what Klarna's API and the journal are called with to see what the Acquiring Partner sees.
func (w *World) KlarnaCredentials() (apiKey, accountID string) {
	return w.env.apKlarnaKey, w.env.account
}

// CallAcquirer sends a call to the Acquiring Partner as the scenario's Partner would: its API
// key as "Authorization: Bearer", body (if not nil) as JSON, and header (may be nil). The
// answer is checked against contracts/acquirer.yaml (Answer.Problem) and joins Answers. The
// error is a call that got no answer at all.
func (w *World) CallAcquirer(ctx context.Context, method, path string, body any, header http.Header) (Answer, error) {
	a, err := w.call(ctx, method, path, w.env.partnerKey, body, header)
	if err != nil {
		return Answer{}, err
	}
	return a.clone(), nil
}

// call sends one Partner call to the Acquiring Partner with key ("" for none) and records the
// answer.
func (w *World) call(ctx context.Context, method, path, key string, body any, header http.Header) (*Answer, error) {
	a, err := callAcquirer(ctx, w.env.client, w.env.acquirerURL, method, path, key, body, header)
	if err != nil {
		return nil, fmt.Errorf("the Partner could not reach the Acquiring Partner at %s: %w", w.env.acquirerURL, err)
	}
	w.mu.Lock()
	w.answers = append(w.answers, a)
	w.mu.Unlock()
	return a, nil
}

// Answers returns every answer the Partner got from the Acquiring Partner in this scenario,
// oldest first: the suite's steps' calls (retries and reads included) and CallAcquirer's. The
// payment presentation the Partner asks Klarna for directly is Klarna's answer, not among them.
func (w *World) Answers() []Answer {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Answer, len(w.answers))
	for i, a := range w.answers {
		out[i] = a.clone()
	}
	return out
}

// LastAnswer returns the Acquiring Partner's answer to the Partner's last call, and false when
// the Partner has called nothing yet.
func (w *World) LastAnswer() (Answer, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.answers) == 0 {
		return Answer{}, false
	}
	return w.answers[len(w.answers)-1].clone(), true
}

// Journal returns what the Acquiring Partner sent Klarna's API in this scenario, oldest first,
// as the mock received it: method, path, headers (Authorization left out), raw body, the
// status Klarna answered and the body fields Klarna does not document that the mock accepted
// (Warnings). The suite's own calls to Klarna (the Partner's Klarna SDK, the customer) are left
// out.
func (w *World) Journal() ([]testkit.JournalEntry, error) {
	entries, err := w.journalOf("")
	if err != nil {
		return nil, err
	}
	out := make([]testkit.JournalEntry, len(entries))
	for i, e := range entries {
		out[i] = e.JournalEntry
	}
	return out, nil
}

// nextReference returns a reference unique to this scenario; Klarna's verdict on the next
// purchase, if one was arranged, rides on it (the mock's magic values).
func (w *World) nextReference(prefix string) string {
	w.seq++
	ref := fmt.Sprintf("%s-%s-%d", prefix, w.id, w.seq)
	if w.marker != "" {
		ref += "-" + w.marker
		w.marker = ""
	}
	return ref
}

// addNetwork adds the Klarna Network fields the Partner holds to a request body.
func (w *World) addNetwork(b map[string]any, o *op) {
	if w.nst != "" {
		name := "klarna_network_session_token"
		if w.oldNames {
			name = "interoperability_token"
		}
		b[name], o.nst = w.nst, w.nst
	}
	if w.networkData != "" {
		name := "klarna_network_data"
		if w.oldNames {
			name = "interoperability_data"
		}
		b[name], o.networkData = w.networkData, w.networkData
	}
}

// sessionOp prepares a payment session asking for a token of usage ("" for none), with a
// purchase of amount (0 for none).
func (w *World) sessionOp(usage string, amount int64, currency string) *op {
	ref := w.nextReference("order")
	o := &op{kind: "session", what: "payment session", path: "/v1/sessions", reference: ref, currency: currency,
		amount: amount, usage: usage, customerPresent: true, mode: w.mode}
	b := map[string]any{"reference": ref, "currency": currency, "mode": w.mode}
	if w.mode == "REDIRECT" {
		b["return_url"] = returnURL
	}
	spd := map[string]any{"purchase_reference": ref, "customer": map[string]any{"email": w.email}}
	if amount > 0 {
		b["amount"] = amount
		spd["line_items"] = []any{map[string]any{"name": "Coffee beans", "quantity": 1, "total_amount": amount}}
	}
	if usage != "" {
		b["request_customer_token"] = map[string]any{"usage": usage, "reference": "customer-" + w.id}
		if usage == UsageSubscription {
			spd["subscriptions"] = subscriptions(amount, currency)
		}
	}
	b["supplementary_purchase_data"] = spd
	w.addNetwork(b, o)
	o.body = b
	return o
}

// chargeOp prepares a charge of the customer's saved token.
func (w *World) chargeOp(token *tokenResource, amount int64, currency string, present bool) *op {
	ref := w.nextReference("charge")
	o := &op{kind: "charge", what: "charge", path: "/v1/charges", reference: ref, currency: currency, amount: amount,
		customerPresent: present}
	spd := map[string]any{
		"purchase_reference": ref,
		"line_items":         []any{map[string]any{"name": "Coffee beans", "quantity": 1, "total_amount": amount}},
	}
	b := map[string]any{"customer_present": present, "reference": ref, "currency": currency, "amount": amount}
	if token != nil {
		b["customer_token"], o.klarnaToken = token.CustomerToken, token.KlarnaCustomerToken
	}
	if present {
		b["mode"], o.mode = w.mode, w.mode
		if w.mode == "REDIRECT" {
			b["return_url"] = returnURL
		}
	} else {
		spd["subscriptions"] = subscriptions(amount, currency)
	}
	b["supplementary_purchase_data"] = spd
	w.addNetwork(b, o)
	o.body = b
	return o
}

func subscriptions(amount int64, currency string) []any {
	if amount <= 0 {
		amount = 999
	}
	return []any{map[string]any{
		"subscription_reference": "coffee-club", "name": "Coffee club",
		"billing_plans": []any{map[string]any{"billing_amount": amount, "currency": currency, "interval": "MONTH", "interval_frequency": 1}},
	}}
}

// send makes the Partner's call of o with key, records it and checks what the Acquiring Partner
// sent Klarna meanwhile. The returned error names a broken rule; the answer itself is judged
// by the Then steps.
func (w *World) send(ctx context.Context, o *op, key string) error {
	o.key = key
	if o.header == nil {
		o.header = http.Header{}
	}
	if o.idemKey != "" {
		o.header.Set("Idempotency-Key", o.idemKey)
	}
	var err error
	if o.before, err = w.env.journalHead(); err != nil {
		return err
	}
	ans, err := w.call(ctx, http.MethodPost, o.path, key, o.body, o.header)
	if err != nil {
		return err
	}
	if o.after, err = w.env.journalHead(); err != nil {
		return err
	}
	o.ans = ans
	if ans.Status >= 200 && ans.Status < 300 && (o.kind == "session" || o.kind == "charge") {
		o.res = &resource{}
		if err := json.Unmarshal(ans.Body, o.res); err != nil {
			return broke(RulePartnerAPIContract, "%s %s answered %d with a body that is not a %s: %v", http.MethodPost, o.path, ans.Status, o.what, err)
		}
	}
	w.mu.Lock()
	w.ops = append(w.ops, o)
	if o.kind == "session" || o.kind == "charge" {
		w.current = o
	} else {
		w.methods = o
	}
	w.mu.Unlock()
	if err := ans.contractErr(); err != nil {
		return err
	}
	return checked(w.checkInitial(o))
}

// retry sends o again as the Partner would after a timeout: same body, same Idempotency-Key.
func (w *World) retry(ctx context.Context, o *op) error {
	ans, err := w.call(ctx, http.MethodPost, o.path, o.key, o.body, o.header)
	if err != nil {
		return err
	}
	if o.after, err = w.env.journalHead(); err != nil {
		return err
	}
	o.retries = append(o.retries, ans)
	return ans.contractErr()
}

// read fetches the session or charge as it is now.
func (w *World) read(ctx context.Context, o *op) (*resource, error) {
	if o.res == nil {
		return nil, fmt.Errorf("the %s was never created (the Acquiring Partner answered %d)", o.what, o.ans.Status)
	}
	ans, err := w.call(ctx, http.MethodGet, o.path+"/"+o.res.ID, o.key, nil, nil)
	if err != nil {
		return nil, err
	}
	if err := ans.contractErr(); err != nil {
		return nil, err
	}
	if ans.Status != http.StatusOK {
		return nil, broke(RuleReportOutcome, "GET %s/%s answered %d: %s", o.path, o.res.ID, ans.Status, clip(string(ans.Body), 300))
	}
	r := &resource{}
	if err := json.Unmarshal(ans.Body, r); err != nil {
		return nil, err
	}
	return r, nil
}

// currentOp returns the last session or charge, or an error naming the missing step.
func (w *World) currentOp() (*op, error) {
	if w.current == nil {
		return nil, errors.New("no payment session or charge was opened in this scenario")
	}
	return w.current, nil
}

// journeyOp returns the last session or charge that sent the customer to Klarna.
func (w *World) journeyOp() (*op, error) {
	o, err := w.currentOp()
	if err != nil {
		return nil, err
	}
	if o.res == nil || o.res.PaymentRequestID == "" {
		return nil, fmt.Errorf("the %s has no Klarna Payment Request to act on (the Acquiring Partner answered %s)", o.what, o.describeAnswer())
	}
	return o, nil
}

// ids reports whether id is one this scenario created: a session, a charge, a token.
func (w *World) ids(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, o := range w.ops {
		if o.res == nil {
			continue
		}
		if o.res.ID == id {
			return true
		}
		if t := tokenOf(o.res.CustomerToken); t != nil && t.CustomerToken == id {
			return true
		}
	}
	return false
}

// deliveries returns the webhooks the Partner received about this scenario's payments.
func (w *World) deliveries() []*delivery {
	if w.env.cfg.InProcessAcquirer() {
		return w.env.inbox.everything()
	}
	return w.env.inbox.about(w.ids)
}

// events returns the deliveries the Partner took of an event type about a session or charge.
func (w *World) events(eventType, id string) []*delivery {
	var out []*delivery
	for _, d := range w.deliveries() {
		if d.event != nil && d.event.EventType == eventType && d.delivered() && d.isAbout(func(s string) bool { return s == id }) {
			out = append(out, d)
		}
	}
	return out
}

// eventually polls cond until it holds or the wait timeout passes.
func (w *World) eventually(ctx context.Context, cond func() bool) bool {
	deadline := time.Now().Add(w.env.cfg.WaitTimeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle waits a moment for anything still on its way (a duplicate webhook).
func settle() { time.Sleep(250 * time.Millisecond) }

// describeEvents lists the webhooks the Partner took about id, for messages.
func (w *World) describeEvents(id string) string {
	var parts []string
	for _, d := range w.deliveries() {
		if d.event == nil || !d.isAbout(func(s string) bool { return s == id }) {
			continue
		}
		s := d.event.EventType
		if d.data.Status != "" {
			s += " (" + d.data.Status
			if d.data.DeclineReason != "" {
				s += ": " + d.data.DeclineReason
			}
			s += ")"
		}
		if !d.delivered() {
			s += fmt.Sprintf(" [answered %d]", d.status)
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}
