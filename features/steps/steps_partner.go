package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/cucumber/godog"
)

// The Partner's checkout and what the Partner does.

func (w *World) aPartner() error { return nil }

func (w *World) handsOver(how string) error {
	w.mode = "REDIRECT"
	if how == "with Klarna's SDK" {
		w.mode = "SDK"
	}
	return nil
}

func (w *World) mint(email string) (string, error) {
	t, err := w.env.klarna.NetworkSessionToken(w.env.partnerKlarnaKey, w.env.account, email)
	if err != nil {
		return "", fmt.Errorf("the Partner could not get a Klarna Network Session Token from Klarna: %w", err)
	}
	return t, nil
}

func (w *World) identifiedCustomer() error {
	var err error
	w.nst, err = w.mint(w.email)
	return err
}

func (w *World) hasNetworkData() error {
	// Spaces, key order and \u escapes a JSON re-encoding would change: the data must reach
	// Klarna byte for byte.
	w.networkData = `{"content_type":"application/vnd.klarna.interoperability-data.v2+json", "content": {"checkout": "` +
		w.id + `", "items": [ {"name": "Caf\u00e9 cr\u00e8me", "quantity": 1.0} ], "note": "kept  as  given"}}`
	return nil
}

func (w *World) usesOldNames() error {
	w.oldNames = true
	return nil
}

func (w *World) riskDeclinesCustomer() error {
	w.email = "jane.doe." + w.id + "+denied@example.com"
	return nil
}

func (w *World) riskDeclinesNext() error {
	w.marker = "decline"
	return nil
}

func (w *World) confirmNext() error {
	w.marker = "stepup"
	return nil
}

// saveToken creates a customer token the quick way, as a Partner's returning customer has one:
// a session for a customer Klarna identified, approved at once.
func (w *World) saveToken(ctx context.Context, usage, key string) (*tokenResource, error) {
	nst, err := w.mint("saved." + w.id + "@example.com")
	if err != nil {
		return nil, err
	}
	// The customer saved Klarna earlier, whatever this scenario's checkout holds.
	savedNST, savedMode, savedMarker, savedOld, savedEmail := w.nst, w.mode, w.marker, w.oldNames, w.email
	w.nst, w.mode, w.marker, w.oldNames, w.email = nst, "SDK", "", false, "saved."+w.id+"@example.com"
	o := w.sessionOp(usage, 0, "EUR")
	w.nst, w.mode, w.marker, w.oldNames, w.email = savedNST, savedMode, savedMarker, savedOld, savedEmail
	if err := w.send(ctx, o, key); err != nil {
		return nil, err
	}
	if o.res == nil || o.res.Status != "COMPLETED" {
		return nil, w.outcome(o, "saving Klarna for %s use, for a customer Klarna identified, must be approved at once; the Acquiring Partner answered %s", usage, o.describeAnswer())
	}
	tok, vs := w.checkTokens(o.res.CustomerToken, usage)
	if len(vs) > 0 {
		return nil, vs
	}
	return tok, nil
}

func (w *World) customerSaved(ctx context.Context, usage string) error {
	tok, err := w.saveToken(ctx, usageOf(usage), w.env.partnerKey)
	w.token = tok
	return err
}

func (w *World) otherCustomerSaved(ctx context.Context, usage string) error {
	if w.env.otherPartnerKey == "" {
		return w.skip("no second Partner key at the Acquiring Partner (set ACQUIRER_OTHER_PARTNER_KEY or ACQUIRER_PARTNER_KEY_PREFIX)")
	}
	tok, err := w.saveToken(ctx, usageOf(usage), w.env.otherPartnerKey)
	w.otherToken = tok
	return err
}

func (w *World) tokenRevoked() error {
	if w.token == nil {
		return errors.New("the customer has no saved token")
	}
	return w.env.klarna.RevokeCustomerToken(w.env.apKlarnaKey, w.env.account, w.token.KlarnaCustomerToken)
}

func (w *World) openedWithJourney(ctx context.Context, usage, amt, currency string) error {
	if err := w.opensSession(ctx, usage, "with a purchase", amt, currency, ""); err != nil {
		return err
	}
	return w.askedForJourney()
}

func (w *World) partnerEndpointFails(n int) error {
	w.env.inbox.failNext(n, w.ids)
	return nil
}

// inProcess returns the door in front of the Acquiring Partner, or skips the scenario when the
// Acquiring Partner runs elsewhere. Scenarios tagged @interception are skipped before their
// first step; this catches a step of that kind in a scenario without the tag.
func (w *World) inProcess() (*frontDoor, error) {
	if w.env.front == nil {
		return nil, w.skip(interceptionSkip)
	}
	return w.env.front, nil
}

func (w *World) klarnaCannotReach() error { return w.setOutage(true) }

// setOutage makes the door in front of the Acquiring Partner turn Klarna's webhooks away (on)
// or let them pass again.
func (w *World) setOutage(on bool) error {
	f, err := w.inProcess()
	if err != nil {
		return err
	}
	f.setOutage(on)
	return nil
}

func (w *World) loseNextAnswer() error {
	if _, err := w.inProcess(); err != nil {
		return err
	}
	w.env.faults.loseNextAuthorizeAnswers(1)
	return nil
}

func (w *World) opensSession(ctx context.Context, usage, purchase, amt, currency, idem string) error {
	var a int64
	if amt != "" {
		var err error
		if a, err = parseAmount(amt); err != nil {
			return err
		}
	} else {
		currency = "EUR"
	}
	o := w.sessionOp(usageOf(usage), a, currency)
	if idem != "" {
		o.idemKey = "idem-" + o.reference
	}
	return w.send(ctx, o, w.env.partnerKey)
}

func (w *World) charge(ctx context.Context, amt, currency, idem string, present bool) error {
	if w.token == nil {
		return errors.New("the customer has no saved token to charge")
	}
	a, err := parseAmount(amt)
	if err != nil {
		return err
	}
	o := w.chargeOp(w.token, a, currency, present)
	if idem != "" {
		o.idemKey = "idem-" + o.reference
	}
	return w.send(ctx, o, w.env.partnerKey)
}

func (w *World) chargesPresent(ctx context.Context, amt, currency, idem string) error {
	return w.charge(ctx, amt, currency, idem, true)
}

func (w *World) chargesRenewal(ctx context.Context, amt, currency, idem string) error {
	return w.charge(ctx, amt, currency, idem, false)
}

func (w *World) retriesSame(ctx context.Context) error {
	o, err := w.currentOp()
	if err != nil {
		return err
	}
	if o.idemKey == "" {
		return errors.New("the last request had no Idempotency-Key")
	}
	return w.retry(ctx, o)
}

func (w *World) differentSameKey(ctx context.Context) error {
	prev, err := w.currentOp()
	if err != nil {
		return err
	}
	o := w.sessionOp(UsageOnDemand, 4200, "EUR")
	o.idemKey = prev.idemKey
	return w.send(ctx, o, w.env.partnerKey)
}

func (w *World) asksKlarna(ctx context.Context, amt, currency, withToken string) error {
	a, err := parseAmount(amt)
	if err != nil {
		return err
	}
	q := url.Values{"currency": {currency}, "amount": {strconv.FormatInt(a, 10)}, "locale": {"en-US"}, "intents[]": {"PAY"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		w.env.klarna.URL+"/v2/accounts/"+url.PathEscape(w.env.account)+"/payment/presentation?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Basic "+w.env.partnerKlarnaKey)
	req.Header.Set("User-Agent", suiteUserAgent+" (the Partner's Klarna SDK)")
	o := &op{kind: "presentation", what: "payment presentation", nst: w.nst}
	if w.nst != "" {
		req.Header.Set("Klarna-Network-Session-Token", w.nst)
	}
	if withToken != "" {
		if w.token == nil {
			return errors.New("the customer has no saved token")
		}
		req.Header.Set("Klarna-Customer-Token", w.token.KlarnaCustomerToken)
		o.klarnaToken = w.token.KlarnaCustomerToken
	}
	resp, err := w.env.client.Do(req)
	if err != nil {
		return fmt.Errorf("the Partner could not reach Klarna: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	o.ans = &Answer{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, Header: resp.Header, Body: body}
	w.mu.Lock()
	w.ops = append(w.ops, o)
	w.methods = o
	w.mu.Unlock()
	return nil
}

func (w *World) asksAcquirer(ctx context.Context, amt, currency, withToken string) error {
	a, err := parseAmount(amt)
	if err != nil {
		return err
	}
	o := &op{kind: "payment-methods", what: "payment methods", path: "/v1/payment-methods", currency: currency, amount: a, reference: "methods-" + w.id}
	b := map[string]any{"currency": currency, "amount": a, "locale": "en-US", "intents": []string{"PAY"}}
	if withToken != "" {
		if w.token == nil {
			return errors.New("the customer has no saved token")
		}
		b["customer_token"], o.klarnaToken = w.token.CustomerToken, w.token.KlarnaCustomerToken
	}
	w.addNetwork(b, o)
	o.body = b
	return w.send(ctx, o, w.env.partnerKey)
}

func (w *World) noKey(ctx context.Context) error {
	return w.send(ctx, w.sessionOp(UsageOnDemand, 2500, "EUR"), "")
}

// sessionFault is a fault the bad-session step builds into a payment session: problem is the
// words a feature file names it with, spoil changes the body and its
// supplementary_purchase_data.
type sessionFault struct {
	problem string
	spoil   func(body, spd map[string]any)
}

// badSessions are the faults the bad-session step knows.
var badSessions = []sessionFault{
	{"an amount of zero", func(b, _ map[string]any) { b["amount"] = 0 }},
	{"neither an amount nor a customer token", func(b, spd map[string]any) {
		delete(b, "amount")
		delete(b, "request_customer_token")
		delete(spd, "line_items")
	}},
	{"an unknown hand-over mode", func(b, _ map[string]any) { b["mode"] = "POPUP" }},
	{"redirect mode but no return URL", func(b, _ map[string]any) {
		b["mode"] = "REDIRECT"
		delete(b, "return_url")
	}},
	{"a field the API does not know", func(b, _ map[string]any) { b["colour"] = "red" }},
	{"a subscription token but no subscription", func(b, _ map[string]any) {
		b["request_customer_token"] = map[string]any{"usage": UsageSubscription}
	}},
	{"a currency that is not a currency code", func(b, _ map[string]any) { b["currency"] = "euro" }},
}

// badSessionProblems lists the problems badSessions knows, for the step's meaning.
func badSessionProblems() string {
	names := make([]string, len(badSessions))
	for i, f := range badSessions {
		names[i] = `"` + f.problem + `"`
	}
	return strings.Join(names, ", ")
}

func (w *World) badSession(ctx context.Context, problem string) error {
	i := slices.IndexFunc(badSessions, func(f sessionFault) bool { return f.problem == problem })
	if i < 0 {
		return fmt.Errorf("%w: no bad session %q is defined", godog.ErrUndefined, problem)
	}
	o := w.sessionOp(UsageOnDemand, 2500, "EUR")
	badSessions[i].spoil(o.body, o.body["supplementary_purchase_data"].(map[string]any))
	return w.send(ctx, o, w.env.partnerKey)
}

func (w *World) lineItemsOff(ctx context.Context) error {
	o := w.sessionOp(UsageOnDemand, 2500, "EUR")
	o.body["supplementary_purchase_data"].(map[string]any)["line_items"] = []any{
		map[string]any{"name": "Coffee beans", "quantity": 1, "total_amount": 2000},
	}
	return w.send(ctx, o, w.env.partnerKey)
}

func (w *World) chargesUnknownToken(ctx context.Context) error {
	o := w.chargeOp(&tokenResource{CustomerToken: "aptok_" + randomHex(16)}, 999, "EUR", false)
	o.klarnaToken = ""
	return w.send(ctx, o, w.env.partnerKey)
}

func (w *World) chargesOthersToken(ctx context.Context) error {
	if w.otherToken == nil {
		return errors.New("no other Partner's customer saved a token")
	}
	o := w.chargeOp(w.otherToken, 999, "EUR", w.otherToken.Usage == UsageOnDemand)
	o.klarnaToken = ""
	return w.send(ctx, o, w.env.partnerKey)
}

func (w *World) chargesSubscriptionPresent(ctx context.Context) error {
	if w.token == nil || w.token.Usage != UsageSubscription {
		return errors.New("the customer has no saved subscription token")
	}
	return w.send(ctx, w.chargeOp(w.token, 4500, "EUR", true), w.env.partnerKey)
}

func (w *World) chargesOnDemandNotPresent(ctx context.Context) error {
	if w.token == nil || w.token.Usage != UsageOnDemand {
		return errors.New("the customer has no saved on-demand token")
	}
	return w.send(ctx, w.chargeOp(w.token, 999, "EUR", false), w.env.partnerKey)
}
