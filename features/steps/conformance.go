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
func (w *World) journalHead() (uint64, error) {
	var out struct {
		Entries []testkit.JournalEntry `json:"entries"`
	}
	err := w.env.klarna.Do(http.MethodGet, "/mock/v1/accounts/"+url.PathEscape(w.env.account)+"/journal?limit=1", w.env.apKlarnaKey, nil, &out)
	if err != nil {
		return 0, fmt.Errorf("reading the journal of what the Acquiring Partner sent Klarna: %w", err)
	}
	if len(out.Entries) == 0 {
		return 0, nil
	}
	return out.Entries[0].Seq, nil
}

// journal returns what was sent to Klarna's payment API with the Acquiring Partner's credentials,
// since the scenario began.
func (w *World) journal() ([]entry, error) {
	raw, err := w.env.klarna.JournalSince(w.env.apKlarnaKey, w.env.account, w.firstSeq(), "/payment/")
	if err != nil {
		return nil, fmt.Errorf("reading the journal of what the Acquiring Partner sent Klarna: %w", err)
	}
	out := make([]entry, len(raw))
	for i, r := range raw {
		out[i] = entry{JournalEntry: r}
		_ = json.Unmarshal([]byte(r.Body), &out[i].json)
	}
	return out, nil
}

// firstSeq is the journal position before the scenario's first call.
func (w *World) firstSeq() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.ops) == 0 {
		return 0
	}
	return w.ops[0].before
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
	if e.fromSuite() || slices.Contains(finals, e.header("Klarna-Network-Session-Token")) {
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

// checkInitial checks the initial authorize of a session or charge against what the Partner
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
		if o.res != nil {
			detail := fmt.Sprintf("the Acquiring Partner answered %d for the %s %s, but Klarna received no authorize for it (none carries the Partner's reference %q)",
				o.ans.status, o.what, o.res.ID, o.reference)
			if !w.env.isolated && !slices.ContainsFunc(entries, func(e entry) bool { return !e.fromSuite() }) {
				detail += fmt.Sprintf("; the journal of API key and account %s holds no call of the Acquiring Partner at all: are they the ones it uses (ACQUIRER_KLARNA_API_KEY, ACQUIRER_KLARNA_ACCOUNT_ID)?", w.env.account)
			}
			return Violations{{Rule: RuleForwardPurchase, Detail: detail}}, nil
		}
		return nil, nil
	}
	var vs Violations
	add := func(r Rule, format string, args ...any) {
		v := Violation{Rule: r, Detail: fmt.Sprintf(format, args...)}
		if !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	what := o.what
	if o.res != nil {
		what += " " + o.res.ID
	}
	for _, e := range auths {
		if e.header("Klarna-Idempotency-Key") == "" {
			add(RuleIdempotencyKey, "the authorize for the %s had no Klarna-Idempotency-Key", what)
		}
		if o.networkData != "" {
			sent, where := e.networkData()
			switch {
			case sent == nil && where != "":
				add(RuleNetworkDataUnaltered, "the authorize for the %s carried it in %s, not in the body's klarna_network_data; Partner gave %q", what, where, o.networkData)
			case sent == nil:
				add(RuleNetworkDataUnaltered, "the authorize for the %s carried no klarna_network_data; Partner gave %q", what, o.networkData)
			case *sent != o.networkData:
				add(RuleNetworkDataUnaltered, "sent %q, Partner gave %q", *sent, o.networkData)
			}
		}
		if o.nst != "" {
			sent := or(e.header("Klarna-Network-Session-Token"), e.header("Klarna-Interoperability-Token"))
			if sent != o.nst {
				add(RuleNetworkSessionTokenUnaltered, "the authorize for the %s sent %q, Partner gave %q", what, sent, o.nst)
			}
		}
		if o.kind == "session" && o.usage != "" {
			want := []string{scopeOf(o.usage)}
			scopes, ok := e.field("request_customer_token.scopes")
			var got []string
			list, _ := scopes.([]any)
			for _, s := range list {
				got = append(got, fmt.Sprint(s))
			}
			switch {
			case !ok:
				add(RuleCustomerTokenScope, "the authorize for the %s has no request_customer_token; the Partner asked for a %s token", what, o.usage)
			case !slices.Equal(got, want):
				add(RuleCustomerTokenScope, "the authorize for the %s asked for scopes %v; a %s token needs %v", what, got, o.usage, want)
			}
		}
		_, stepUp := e.field("step_up_config")
		switch {
		case o.customerPresent && !stepUp:
			add(RuleStepUpWhenPresent, "the authorize for the %s (customer present) has no step_up_config, so Klarna cannot send the customer through its Purchase Journey", what)
		case !o.customerPresent && stepUp:
			add(RuleNoStepUpWhenNotPresent, "the authorize for the %s (a charge without the customer) has a step_up_config", what)
		case stepUp && o.mode != "":
			want := map[string]string{"REDIRECT": "HANDOVER", "SDK": "SDK"}[o.mode]
			if m, _ := e.field("step_up_config.customer_interaction_config.method"); m != want {
				add(RuleStepUpWhenPresent, "the Partner chose %s mode, so step_up_config.customer_interaction_config.method must be %s; it was %v", o.mode, want, m)
			}
		}
		if o.kind == "charge" && o.klarnaToken != "" {
			if got := e.header("Klarna-Customer-Token"); got != o.klarnaToken {
				add(RuleChargeKlarnaToken, "the authorize for the %s sent Klarna-Customer-Token %q; the Partner's token stands for %q", what, got, o.klarnaToken)
			}
		}
		if o.amount > 0 {
			amount, _ := e.field("request_payment_transaction.amount")
			if f, ok := amount.(float64); !ok || int64(f) != o.amount {
				add(RuleForwardPurchase, "the authorize for the %s asked for amount %v; the Partner asked for %d", what, amount, o.amount)
			}
		}
		if c, _ := e.field("currency"); !strings.EqualFold(fmt.Sprint(c), o.currency) {
			add(RuleForwardPurchase, "the authorize for the %s asked for currency %v; the Partner asked for %s", what, c, o.currency)
		}
		if o.kind == "charge" && !o.customerPresent {
			if subs, _ := e.field("supplementary_purchase_data.subscriptions"); subs == nil {
				add(RuleSubscriptionData, "the authorize for the %s has no supplementary_purchase_data.subscriptions", what)
			}
		}
	}
	return vs, nil
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
		if e.isAuthorize() && !e.fromSuite() && nst != "" && e.header("Klarna-Network-Session-Token") == nst {
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

// sweep checks what holds for every scenario: an idempotency key on every POST to Klarna,
// signed and well-formed webhooks to the Partner, each outcome told once.
func (w *World) sweep() Violations {
	var vs Violations
	if entries, err := w.journal(); err == nil {
		for _, e := range entries {
			if e.Method != http.MethodPost || e.fromSuite() || e.header("Klarna-Idempotency-Key") != "" {
				continue
			}
			if !w.env.isolated && !w.concerns(e) {
				continue
			}
			vs = append(vs, Violation{Rule: RuleIdempotencyKey, Detail: fmt.Sprintf("%s had no Klarna-Idempotency-Key (body %s)", e.describe(time.Time{}), clip(e.Body, 200))})
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
		final, _ := w.checkFinal(o)
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
