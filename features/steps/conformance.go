package steps

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/klarna-mock/klarna-mock/testkit"
)

// Klarna-side conformance: what the Acquiring Partner actually sent Klarna, read from the
// mock's journal (GET /mock/v1/accounts/{partner_account_id}/journal) and held against what the
// Partner asked for.

// entry is a journal entry with its body decoded.
type entry struct {
	testkit.JournalEntry
	json map[string]any
}

func (e entry) header(name string) string { return e.Headers[http.CanonicalHeaderKey(name)] }

// fromSuite reports whether the suite itself made the call (the Partner's Klarna SDK, the
// customer), not the Acquiring Partner.
func (e entry) fromSuite() bool {
	ua := e.header("User-Agent")
	return strings.HasPrefix(ua, suiteUserAgent) || ua == testkit.DefaultUserAgent
}

func (e entry) isAuthorize() bool {
	return e.Method == http.MethodPost && strings.HasSuffix(e.Path, "/payment/authorize")
}

func (e entry) isPresentation() bool {
	return e.Method == http.MethodGet && strings.HasSuffix(e.Path, "/payment/presentation")
}

// field walks a dotted path through the decoded body.
func (e entry) field(path string) (any, bool) {
	var cur any = e.json
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func (e entry) describe(start time.Time) string {
	s := fmt.Sprintf("%s %s", e.Method, e.Path)
	if !start.IsZero() {
		s += fmt.Sprintf(" at +%s", e.ReceivedAt.Sub(start).Round(time.Second))
	}
	return s + fmt.Sprintf(" answered %d", e.Status)
}

// journalHead returns the newest sequence number of the journal, 0 when it is empty.
func (e *env) journalHead() (uint64, error) {
	var out struct {
		Entries []testkit.JournalEntry `json:"entries"`
	}
	err := e.klarna.Do(http.MethodGet, "/mock/v1/accounts/"+url.PathEscape(e.account)+"/journal?limit=1", e.apKlarnaKey, nil, &out)
	if err != nil {
		return 0, fmt.Errorf("reading the journal of what the Acquiring Partner sent Klarna: %w", err)
	}
	if len(out.Entries) == 0 {
		return 0, nil
	}
	return out.Entries[0].Seq, nil
}

// journal returns what the Acquiring Partner sent to Klarna's payment API in this scenario.
func (w *World) journal() ([]entry, error) { return w.journalOf("/payment/") }

// journalOf returns what the Acquiring Partner sent Klarna since the scenario began, on paths
// containing pathContains ("" for all); the suite's own calls are left out.
func (w *World) journalOf(pathContains string) ([]entry, error) {
	raw, err := w.env.klarna.JournalSince(w.env.apKlarnaKey, w.env.account, w.env.since, pathContains)
	if err != nil {
		return nil, fmt.Errorf("reading the journal of what the Acquiring Partner sent Klarna: %w", err)
	}
	out := make([]entry, 0, len(raw))
	for _, r := range raw {
		e := entry{JournalEntry: r}
		if e.fromSuite() {
			continue
		}
		_ = json.Unmarshal([]byte(r.Body), &e.json)
		out = append(out, e)
	}
	return out, nil
}

// finalTokens are the network session tokens of completed Purchase Journeys: their authorizes
// are final ones.
func (w *World) finalTokens() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, o := range w.ops {
		if o.journey != nil && o.journey.StateContext != nil && o.journey.StateContext.KlarnaNetworkSessionToken != "" {
			out = append(out, o.journey.StateContext.KlarnaNetworkSessionToken)
		}
	}
	return out
}

// mine reports whether an entry was sent for o: its body carries o's reference. In an isolated
// journal an entry sent while o's call was in flight counts too, so an Acquiring Partner that
// drops the reference is still found.
func (w *World) mine(o *op, e entry, finals []string) bool {
	if slices.Contains(finals, e.header("Klarna-Network-Session-Token")) {
		return false
	}
	if strings.Contains(e.Body, o.reference) {
		return true
	}
	return w.env.isolated && e.Seq > o.before && e.Seq <= o.after
}

// initialAuthorizes returns the authorizes the Acquiring Partner sent Klarna for o (retries
// included), final authorizes excluded.
func (w *World) initialAuthorizes(o *op, entries []entry) []entry {
	finals := w.finalTokens()
	var out []entry
	for _, e := range entries {
		if e.isAuthorize() && w.mine(o, e, finals) {
			out = append(out, e)
		}
	}
	return out
}

// checkInitial checks the initial authorizes of a session or charge against what the Partner
// asked for. The error is the suite's own trouble (the journal cannot be read).
func (w *World) checkInitial(o *op) (Violations, error) {
	if o.kind != "session" && o.kind != "charge" {
		return nil, nil
	}
	entries, err := w.journal()
	if err != nil {
		return nil, err
	}
	auths := w.initialAuthorizes(o, entries)
	if len(auths) == 0 {
		return w.missingAuthorize(o, entries), nil
	}
	var vs Violations
	for _, e := range auths {
		for _, v := range checkAuthorize(o, e) {
			if !slices.Contains(vs, v) {
				vs = append(vs, v)
			}
		}
	}
	return vs, nil
}

// missingAuthorize reports a session or charge the Acquiring Partner created without asking
// Klarna, and the likely cause when the journal holds nothing of the Acquiring Partner at all.
func (w *World) missingAuthorize(o *op, entries []entry) Violations {
	if o.res == nil {
		return nil
	}
	detail := fmt.Sprintf("the Acquiring Partner answered %d for the %s %s, but Klarna received no authorize for it (none carries the Partner's reference %q)",
		o.ans.Status, o.what, o.res.ID, o.reference)
	if !w.env.isolated && len(entries) == 0 {
		detail += fmt.Sprintf("; the journal of API key and account %s holds no call of the Acquiring Partner at all: are they the ones it uses (ACQUIRER_KLARNA_API_KEY, ACQUIRER_KLARNA_ACCOUNT_ID)?", w.env.account)
	}
	return Violations{{Rule: RuleForwardPurchase, Detail: detail}}
}

// authorizeCheck is one rule held against each initial authorize of a session or charge: check
// returns what is wrong with e, given what the Partner asked for in o, or "" when nothing is.
type authorizeCheck struct {
	rule  Rule
	check func(o *op, e entry) string
}

// authorizeChecks are the rules of the initial authorize, in the order their failures are
// reported. A rule may take more than one row (forward-purchase checks amount and currency
// apart).
var authorizeChecks = []authorizeCheck{
	{RuleIdempotencyKey, checkIdempotencyKey},
	{RuleNetworkDataUnaltered, checkNetworkData},
	{RuleNetworkSessionTokenUnaltered, checkNetworkSessionToken},
	{RuleCustomerTokenScope, checkTokenScope},
	{RuleStepUpWhenPresent, checkStepUpWhenPresent},
	{RuleNoStepUpWhenNotPresent, checkNoStepUpWhenNotPresent},
	{RuleChargeKlarnaToken, checkChargedToken},
	{RuleForwardPurchase, checkAmount},
	{RuleForwardPurchase, checkCurrency},
	{RuleSubscriptionData, checkSubscription},
}

// checkAuthorize holds one initial authorize against every row of authorizeChecks.
func checkAuthorize(o *op, e entry) Violations {
	var vs Violations
	for _, c := range authorizeChecks {
		if detail := c.check(o, e); detail != "" {
			vs = append(vs, Violation{Rule: c.rule, Detail: detail})
		}
	}
	return vs
}

// label names o in messages: "charge <id>", or only its kind before the Acquiring Partner gave
// it an id.
func (o *op) label() string {
	if o.res == nil {
		return o.what
	}
	return o.what + " " + o.res.ID
}

func checkIdempotencyKey(o *op, e entry) string {
	if e.header("Klarna-Idempotency-Key") != "" {
		return ""
	}
	return fmt.Sprintf("the authorize for the %s had no Klarna-Idempotency-Key", o.label())
}

func checkNetworkData(o *op, e entry) string {
	if o.networkData == "" {
		return ""
	}
	sent, where := e.networkData()
	switch {
	case sent == nil && where != "":
		return fmt.Sprintf("the authorize for the %s carried it in %s, not in the body's klarna_network_data; Partner gave %q", o.label(), where, o.networkData)
	case sent == nil:
		return fmt.Sprintf("the authorize for the %s carried no klarna_network_data; Partner gave %q", o.label(), o.networkData)
	case *sent != o.networkData:
		return fmt.Sprintf("sent %q, Partner gave %q", *sent, o.networkData)
	}
	return ""
}

func checkNetworkSessionToken(o *op, e entry) string {
	if o.nst == "" {
		return ""
	}
	if sent := or(e.header("Klarna-Network-Session-Token"), e.header("Klarna-Interoperability-Token")); sent != o.nst {
		return fmt.Sprintf("the authorize for the %s sent %q, Partner gave %q", o.label(), sent, o.nst)
	}
	return ""
}

func checkTokenScope(o *op, e entry) string {
	if o.kind != "session" || o.usage == "" {
		return ""
	}
	scopes, ok := e.field("request_customer_token.scopes")
	if !ok {
		return fmt.Sprintf("the authorize for the %s has no request_customer_token; the Partner asked for a %s token", o.label(), o.usage)
	}
	var got []string
	list, _ := scopes.([]any)
	for _, s := range list {
		got = append(got, fmt.Sprint(s))
	}
	if want := []string{scopeOf(o.usage)}; !slices.Equal(got, want) {
		return fmt.Sprintf("the authorize for the %s asked for scopes %v; a %s token needs %v", o.label(), got, o.usage, want)
	}
	return ""
}

// stepUpMethods is the step_up_config.customer_interaction_config.method each hand-over mode
// of the Partner API needs.
var stepUpMethods = map[string]string{"REDIRECT": "HANDOVER", "SDK": "SDK"}

func checkStepUpWhenPresent(o *op, e entry) string {
	if !o.customerPresent {
		return ""
	}
	if _, stepUp := e.field("step_up_config"); !stepUp {
		return fmt.Sprintf("the authorize for the %s (customer present) has no step_up_config, so Klarna cannot send the customer through its Purchase Journey", o.label())
	}
	if o.mode == "" {
		return ""
	}
	want := stepUpMethods[o.mode]
	if m, _ := e.field("step_up_config.customer_interaction_config.method"); m != want {
		return fmt.Sprintf("the Partner chose %s mode, so step_up_config.customer_interaction_config.method must be %s; it was %v", o.mode, want, m)
	}
	return ""
}

func checkNoStepUpWhenNotPresent(o *op, e entry) string {
	if _, stepUp := e.field("step_up_config"); o.customerPresent || !stepUp {
		return ""
	}
	return fmt.Sprintf("the authorize for the %s (a charge without the customer) has a step_up_config", o.label())
}

func checkChargedToken(o *op, e entry) string {
	if o.kind != "charge" || o.klarnaToken == "" {
		return ""
	}
	if got := e.header("Klarna-Customer-Token"); got != o.klarnaToken {
		return fmt.Sprintf("the authorize for the %s sent Klarna-Customer-Token %q; the Partner's token stands for %q", o.label(), got, o.klarnaToken)
	}
	return ""
}

func checkAmount(o *op, e entry) string {
	if o.amount <= 0 {
		return ""
	}
	amount, _ := e.field("request_payment_transaction.amount")
	if f, ok := amount.(float64); !ok || int64(f) != o.amount {
		return fmt.Sprintf("the authorize for the %s asked for amount %v; the Partner asked for %d", o.label(), amount, o.amount)
	}
	return ""
}

func checkCurrency(o *op, e entry) string {
	if c, _ := e.field("currency"); !strings.EqualFold(fmt.Sprint(c), o.currency) {
		return fmt.Sprintf("the authorize for the %s asked for currency %v; the Partner asked for %s", o.label(), c, o.currency)
	}
	return ""
}

func checkSubscription(o *op, e entry) string {
	if o.kind != "charge" || o.customerPresent {
		return ""
	}
	if subs, _ := e.field("supplementary_purchase_data.subscriptions"); subs == nil {
		return fmt.Sprintf("the authorize for the %s has no supplementary_purchase_data.subscriptions", o.label())
	}
	return ""
}

// networkData returns the Klarna Network data an authorize carried in its body (under its
// current or older name), or nil, and where else it turned up when not in the body.
func (e entry) networkData() (*string, string) {
	for _, name := range []string{"klarna_network_data", "interoperability_data"} {
		if v, ok := e.json[name]; ok {
			s, isString := v.(string)
			if !isString {
				b, _ := json.Marshal(v)
				s = string(b)
			}
			return &s, ""
		}
	}
	for _, h := range []string{"Klarna-Interoperability-Data", "Klarna-Network-Data"} {
		if e.header(h) != "" {
			return nil, "the header " + h
		}
	}
	return nil, ""
}

// finalAuthorizes returns the authorizes sent with the network session token of o's completed
// Purchase Journey.
func (w *World) finalAuthorizes(o *op, entries []entry) []entry {
	nst := o.journeyToken()
	var out []entry
	for _, e := range entries {
		if e.isAuthorize() && nst != "" && e.header("Klarna-Network-Session-Token") == nst {
			out = append(out, e)
		}
	}
	return out
}

// journeyToken is the Klarna Network Session Token of o's completed Purchase Journey, or "".
func (o *op) journeyToken() string {
	if o.journey == nil || o.journey.State != "COMPLETED" || o.journey.StateContext == nil {
		return ""
	}
	return o.journey.StateContext.KlarnaNetworkSessionToken
}

// checkFinal checks that the Acquiring Partner finalized o with Klarna, with the completed
// Purchase Journey's network session token, within its 60 minutes.
func (w *World) checkFinal(o *op) (Violations, error) {
	nst := o.journeyToken()
	if nst == "" {
		return nil, fmt.Errorf("the customer did not complete a Purchase Journey for the %s", o.what)
	}
	entries, err := w.journal()
	if err != nil {
		return nil, err
	}
	finals := w.finalAuthorizes(o, entries)
	completed := o.journey.UpdatedAt
	if o.journey.CompletedAt != nil {
		completed = *o.journey.CompletedAt
	}
	if len(finals) == 0 {
		return Violations{{Rule: RuleFinalAuthorize, Detail: fmt.Sprintf(
			"Klarna received no final authorize with the Klarna Network Session Token %s of Payment Request %s (completed at %s)",
			nst, o.journey.PaymentRequestID, completed.Format(time.RFC3339))}}, nil
	}
	var seen []string
	for _, e := range finals {
		if e.Status == http.StatusOK && !e.ReceivedAt.Before(completed) && e.ReceivedAt.Before(completed.Add(60*time.Minute)) {
			return nil, nil
		}
		seen = append(seen, e.describe(completed))
	}
	return Violations{{Rule: RuleFinalAuthorize, Detail: fmt.Sprintf(
		"no final authorize with the token of Payment Request %s was approved within the window; Klarna received: %s",
		o.journey.PaymentRequestID, strings.Join(seen, "; "))}}, nil
}

// checked turns the outcome of a check into a step's error.
func checked(vs Violations, err error) error {
	if err != nil {
		return err
	}
	return vs.err()
}

// sweep checks what holds for every scenario: an idempotency key on every POST to Klarna's
// payment API, only documented fields in every call to Klarna, signed and well-formed webhooks
// to the Partner, each outcome told once.
func (w *World) sweep() Violations {
	var vs Violations
	if entries, err := w.journalOf(""); err == nil {
		for _, e := range entries {
			if !w.env.isolated && !w.concerns(e) {
				continue
			}
			if e.Method == http.MethodPost && strings.Contains(e.Path, "/payment/") && e.header("Klarna-Idempotency-Key") == "" {
				vs = append(vs, Violation{Rule: RuleIdempotencyKey, Detail: fmt.Sprintf("%s had no Klarna-Idempotency-Key (body %s)", e.describe(time.Time{}), clip(e.Body, 200))})
			}
			// Retries repeat a body: each call and its fields are reported once.
			if v := (Violation{Rule: RuleDocumentedFields, Detail: undocumentedFields(e)}); v.Detail != "" && !slices.Contains(vs, v) {
				vs = append(vs, v)
			}
		}
	}
	for _, d := range w.deliveries() {
		if !d.signed {
			vs = append(vs, Violation{Rule: RulePartnerWebhookSigned, Detail: fmt.Sprintf("a webhook with AP-Signature %q does not verify: %s", d.header.Get("AP-Signature"), clip(string(d.body), 300))})
		}
		if d.problem != "" {
			vs = append(vs, Violation{Rule: RulePartnerAPIContract, Detail: "a webhook to the Partner: " + d.problem})
		}
	}
	w.mu.Lock()
	ops := append([]*op(nil), w.ops...)
	w.mu.Unlock()
	for _, o := range ops {
		if o.res == nil {
			continue
		}
		for _, t := range []string{"order.completed", "payment.declined"} {
			if ids := distinctEvents(w.events(t, o.res.ID)); len(ids) > 1 {
				vs = append(vs, Violation{Rule: RulePartnerToldOnce, Detail: fmt.Sprintf("the Partner was told %s %d times about %s (event ids %v)", t, len(ids), o.res.ID, ids)})
			}
		}
	}
	return vs
}

// undocumentedFields describes the body fields of e that Klarna's API reference does not
// document, or returns "" when there were none. By default (--undocumented-fields warn) the mock
// accepts such a field, as Klarna may, and keeps it as a warning of the call's journal entry
// (JournalEntry.Warnings); an Acquiring Partner sending it relies on something Klarna never
// promised, so the suite fails the scenario, as for every other broken rule.
func undocumentedFields(e entry) string {
	if len(e.Warnings) == 0 {
		return ""
	}
	fields := make([]string, len(e.Warnings))
	for i, wr := range e.Warnings {
		fields[i] = wr.Parameter + " (" + wr.Message + ")"
	}
	return fmt.Sprintf("%s %s carried fields Klarna's API reference (as contracts/ describe it) does not document: %s",
		e.Method, e.Path, strings.Join(fields, ", "))
}

// concerns reports whether a journal entry belongs to this scenario, in a shared journal.
func (w *World) concerns(e entry) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, o := range w.ops {
		if strings.Contains(e.Body, o.reference) || (o.journeyToken() != "" && e.header("Klarna-Network-Session-Token") == o.journeyToken()) {
			return true
		}
	}
	return false
}

// diagnose returns the rules the Acquiring Partner broke on its way to o's outcome, to explain
// a wrong or missing outcome.
func (w *World) diagnose(o *op) Violations {
	vs, _ := w.checkInitial(o)
	if o.journeyToken() != "" {
		final, _ := w.checkCompletion(o)
		vs = append(vs, final...)
	}
	return vs
}

// withDiagnosis adds the diagnosis of o to an outcome failure.
func (w *World) withDiagnosis(o *op, err error) error {
	vs := w.diagnose(o)
	if len(vs) == 0 {
		return err
	}
	return fmt.Errorf("%w\nwhat the Acquiring Partner sent Klarna explains it:\n%s", err, vs.Error())
}

func distinctEvents(ds []*delivery) []string {
	var ids []string
	for _, d := range ds {
		if !slices.Contains(ids, d.event.EventID) {
			ids = append(ids, d.event.EventID)
		}
	}
	return ids
}
