package dashboard

import (
	"bytes"
	"cmp"
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver"
	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
	"github.com/klarna-mock/klarna-mock/mockserver/rules"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// funcs are the templates' helpers; every one returns text, which html/template escapes.
var funcs = template.FuncMap{
	"money": mockserver.FormatMoney,
	"when":  stamp,
	"whenp": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return stamp(*t)
	},
	"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"join":  strings.Join,
	"short": shortID,
	"pretty": func(s string) string {
		var buf bytes.Buffer
		if json.Indent(&buf, []byte(s), "", "  ") != nil {
			return s
		}
		return buf.String()
	},
	"statusClass": func(status int) string { return strconv.Itoa(status/100) + "xx" },
	"list":        func(v ...string) []string { return v },
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"navItem": func(p page, nav, href, label string) navLink {
		return navLink{Href: href, Label: label, Current: p.Nav == nav}
	},
}

// navLink is one entry of the navigation.
type navLink struct {
	Href, Label string
	Current     bool
}

// stamp is a time as the pages show it, in UTC to the second; the zero time is empty.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// shortID is the start of the last part of a krn id, what tells ids apart at a glance; the
// full id is in the link's label for screen readers, and on the object's page.
func shortID(id string) string {
	if i := strings.LastIndexByte(id, ':'); i >= 0 && i+9 <= len(id) {
		return id[i+1 : i+9]
	}
	return id
}

// notices are what a successful action says once back on its page (?done=...): fixed texts, so
// that no link can make the dashboard say anything else.
var notices = map[string]string{
	"open":       "The journey is open: the Payment Request is IN_PROGRESS.",
	"approve":    "Approved: the Payment Request is COMPLETED.",
	"decline":    "Declined: the Payment Request is DECLINED.",
	"back-out":   "Backed out: the Payment Request is SUBMITTED again.",
	"abandon":    "Abandoned: the Payment Request stays IN_PROGRESS until it expires.",
	"cancel":     "Canceled: the Payment Request is CANCELED.",
	"revoke":     "The customer token is revoked.",
	"redeliver":  "A new delivery of the event is on its way.",
	"pause":      "Webhook deliveries are paused: attempts wait until you resume.",
	"resume":     "Webhook deliveries are resumed.",
	"advance":    "The clock moved forward.",
	"rules":      "Your rules are saved.",
	"rules-off":  "Your rules are removed: the default rules decide again.",
	"fault":      "The fault is added.",
	"fault-edit": "The fault is replaced by its edited version, under a new id.",
	"fault-off":  "The fault is removed.",
	"faults-off": "Every fault is removed.",
}

// base is the page every view starts from.
func base(r *http.Request, s *session, title, nav string, data any) page {
	return page{Title: title, Nav: nav, Tenant: s.tenant, CSRF: s.csrf, Notice: notices[r.URL.Query().Get("done")], Live: r.URL.RequestURI(), Data: data}
}

// done sends the browser back to the page an action was made on (a path without a query),
// saying what it did; it returns nil, what the action returns.
func done(w http.ResponseWriter, r *http.Request, to, notice string) error {
	http.Redirect(w, r, to+"?done="+notice, http.StatusSeeOther)
	return nil
}

// objects are the tenant's stored objects, newest first.
type objects struct {
	requests     []*mockserver.PaymentRequest
	transactions []*mockserver.PaymentTransaction
	tokens       []*mockserver.CustomerToken
}

// objects reads the tenant's objects in one snapshot.
func (db *Dashboard) objects(tenant string) (objects, error) {
	var o objects
	err := db.Store.View(func(tx mockserver.Tx) error {
		all, err := tx.Objects(tenant)
		for _, obj := range slices.Backward(all) {
			switch v := obj.(type) {
			case *mockserver.PaymentRequest:
				o.requests = append(o.requests, v)
			case *mockserver.PaymentTransaction:
				o.transactions = append(o.transactions, v)
			case *mockserver.CustomerToken:
				o.tokens = append(o.tokens, v)
			}
		}
		return err
	})
	return o, err
}

// ---- overview

type overviewData struct {
	Now time.Time
	// Requests counts the Payment Requests in each state, in the state machine's order.
	Requests   []stateCount
	Requested  int
	Tx         int
	TokensOn   int
	TokensOff  int
	Webhooks   int
	Journal    []mockhttp.JournalEntry
	Recent     []*mockserver.PaymentRequest
	Deliveries []*webhook.Delivery
	Faults     int
}

func (db *Dashboard) overview(w http.ResponseWriter, r *http.Request, s *session) error {
	o, err := db.objects(s.tenant)
	if err != nil {
		return err
	}
	d := overviewData{Now: db.Service.ClockOf(s.tenant).Now(), Requested: len(o.requests), Tx: len(o.transactions)}
	for _, state := range stateFilters {
		n := 0
		for _, pr := range o.requests {
			if pr.State == state {
				n++
			}
		}
		if n > 0 {
			d.Requests = append(d.Requests, stateCount{state, n})
		}
	}
	for _, ct := range o.tokens {
		if ct.Status == mockserver.TokenRevoked {
			d.TokensOff++
		} else {
			d.TokensOn++
		}
	}
	d.Recent = o.requests[:min(5, len(o.requests))]
	d.Journal = newestFirst(db.Server.Journal(s.tenant, 0, 8))
	hooks, deliveries, err := db.deliveries(s.tenant, 8)
	if err != nil {
		return err
	}
	d.Webhooks, d.Deliveries = len(hooks), deliveries
	if db.Faults != nil {
		d.Faults = len(db.Faults.List(s.tenant))
	}
	db.render(w, r, http.StatusOK, "overview", base(r, s, "Overview", "overview", d))
	return nil
}

// stateCount is how many Payment Requests are in a state.
type stateCount struct {
	State string
	N     int
}

func newestFirst(entries []mockhttp.JournalEntry) []mockhttp.JournalEntry {
	slices.Reverse(entries)
	return entries
}

// ---- journal

// journalFilter is the journal page's search form.
type journalFilter struct {
	Q, Method, Status string
	Warnings          bool
}

type journalData struct {
	Filter  journalFilter
	Entries []mockhttp.JournalEntry
	Total   int
	Shown   int
}

// maxJournalShown is the most entries the journal page lists at once, newest first.
const maxJournalShown = 200

func (f journalFilter) match(e *mockhttp.JournalEntry) bool {
	switch {
	case f.Method != "" && e.Method != f.Method,
		f.Status != "" && strconv.Itoa(e.Status/100)+"xx" != f.Status,
		f.Warnings && len(e.Warnings) == 0:
		return false
	case f.Q == "":
		return true
	}
	q := strings.ToLower(f.Q)
	for _, s := range []string{e.Path, e.Query, e.Body, e.Rule, e.Fault, strconv.Itoa(e.Status)} {
		if strings.Contains(strings.ToLower(s), q) {
			return true
		}
	}
	return false
}

func (db *Dashboard) journal(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	f := journalFilter{Q: strings.TrimSpace(q.Get("q")), Method: q.Get("method"), Status: q.Get("status"), Warnings: q.Get("warnings") != ""}
	all := db.Server.Journal(s.tenant, 0, 0)
	d := journalData{Filter: f, Total: len(all)}
	for i := len(all) - 1; i >= 0 && len(d.Entries) < maxJournalShown; i-- {
		if f.match(&all[i]) {
			d.Entries = append(d.Entries, all[i])
		}
	}
	d.Shown = len(d.Entries)
	db.render(w, r, http.StatusOK, "journal", base(r, s, "Journal", "journal", d))
	return nil
}

// ---- payment requests

// stateFilters are the states the Payment Request list filters by.
var stateFilters = []string{mockserver.StateSubmitted, mockserver.StateInProgress, mockserver.StateCompleted,
	mockserver.StateDeclined, mockserver.StateExpired, mockserver.StateCanceled}

type requestsData struct {
	State    string
	States   []string
	Requests []*mockserver.PaymentRequest
}

func (db *Dashboard) paymentRequests(w http.ResponseWriter, r *http.Request, s *session) error {
	o, err := db.objects(s.tenant)
	if err != nil {
		return err
	}
	d := requestsData{State: r.URL.Query().Get("state"), States: stateFilters}
	for _, pr := range o.requests {
		if d.State == "" || pr.State == d.State {
			d.Requests = append(d.Requests, pr)
		}
	}
	db.render(w, r, http.StatusOK, "payment-requests", base(r, s, "Payment Requests", "payment-requests", d))
	return nil
}

// requestOf returns the tenant's Payment Request id, found as the control API finds it: by id,
// then held to the tenant, another tenant's being the 404 of an unknown id.
func (db *Dashboard) requestOf(tenant, id string) (*mockserver.PaymentRequest, error) {
	pr, err := db.Service.PaymentRequest("", id)
	if err != nil {
		return nil, err
	}
	if owner, _ := mockserver.SplitScope(pr.AccountID); owner != tenant {
		return nil, mockserver.NotFound("Payment request", id)
	}
	return pr, nil
}

// moment is one point of a Payment Request's timeline.
type moment struct {
	At    time.Time
	State string
	Note  string
}

type requestData struct {
	Request    *mockserver.PaymentRequest
	Account    string
	Timeline   []moment
	Actions    []string
	Amount     string
	Method     string
	JourneyURL string
	Deliveries []*webhook.Delivery
}

// requestActions are the actions the dashboard offers, in order: the journey's and cancel.
var requestActions = []string{"open", "approve", "decline", "back-out", "abandon", "cancel"}

// allowed reports whether action can be taken on pr now, as Service.Act and Service.Cancel
// would judge it.
func allowed(pr *mockserver.PaymentRequest, action string) bool {
	switch action {
	case "open":
		return pr.State == mockserver.StateSubmitted
	case "approve", "decline", "abandon":
		return pr.State == mockserver.StateSubmitted || pr.State == mockserver.StateInProgress
	case "back-out":
		return pr.State == mockserver.StateInProgress
	case "cancel":
		return pr.CanTransition(mockserver.StateCanceled)
	}
	return false
}

// timeline puts together a request's life in time order: its creation; each state transition
// the hub recorded (every one since the mock started, up to MaxTransitions of all tenants);
// what the request itself records of the transitions the hub did not see (it is older than the
// history, or imported): its completion and the move to its current state; each state-change
// event the mock delivered for it; when it was finalized and when it expires.
func timeline(pr *mockserver.PaymentRequest, moves []transition, deliveries []*webhook.Delivery) []moment {
	ms := []moment{{At: pr.CreatedAt, State: mockserver.StateSubmitted, Note: "created by the authorize that stepped up"}}
	for _, t := range moves {
		ms = append(ms, moment{At: t.at, State: t.to, Note: describe(t.from, t.to, t.reason)})
	}
	// A request completes once, so a recorded completion is the one it records; and its
	// current state was entered by its last recorded move if that move ended there.
	if pr.CompletedAt != nil && !slices.ContainsFunc(moves, func(t transition) bool { return t.to == mockserver.StateCompleted }) {
		ms = append(ms, moment{At: *pr.CompletedAt, State: mockserver.StateCompleted, Note: describe(mockserver.StateInProgress, mockserver.StateCompleted, "")})
	}
	entered := len(moves) > 0 && moves[len(moves)-1].to == pr.State
	if pr.PreviousState != "" && pr.State != mockserver.StateCompleted && !entered {
		// The move set updated_at, unless a later change that is no move set it again (an
		// update while SUBMITTED); a cancellation keeps its own time.
		at := pr.UpdatedAt
		if pr.CanceledAt != nil {
			at = *pr.CanceledAt
		}
		ms = append(ms, moment{At: at, State: pr.State, Note: describe(pr.PreviousState, pr.State, pr.StateReason)})
	}
	seen := map[string]bool{}
	for _, d := range deliveries {
		if seen[d.Event.EventID] {
			continue
		}
		seen[d.Event.EventID] = true
		ms = append(ms, moment{At: d.Event.OccurredAt, State: "event", Note: d.Event.EventType + " (" + d.State + ")"})
	}
	if pr.Finalized() {
		ms = append(ms, moment{At: *pr.FinalizedAt, State: "finalized", Note: "the final authorize created transaction " + pr.TransactionID})
	}
	if pr.CanTransition(mockserver.StateExpired) {
		ms = append(ms, moment{At: pr.ExpiresAt, State: "expires", Note: "expires unless completed first"})
	}
	slices.SortStableFunc(ms, func(a, b moment) int { return a.At.Compare(b.At) })
	return ms
}

// describe is the note of a move of a request's state.
func describe(from, to, reason string) string {
	note := "from " + from
	if reason != "" {
		note += ", " + reason
	}
	switch to {
	case mockserver.StateCompleted:
		note += ": approved by the customer"
	case mockserver.StateCanceled:
		note += ": canceled by the Partner"
	}
	return note
}

func (db *Dashboard) paymentRequest(w http.ResponseWriter, r *http.Request, s *session) error {
	pr, err := db.requestOf(s.tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	_, account := mockserver.SplitScope(pr.AccountID)
	d := requestData{Request: pr, Account: account, JourneyURL: mockserver.JourneyURL("", pr.PaymentRequestID)}
	if pr.InitialRequest().RequestPaymentTransaction != nil {
		d.Amount = mockserver.FormatMoney(pr.Amount, pr.Currency)
	}
	if pr.StateContext != nil && pr.StateContext.CustomerInteraction != nil {
		d.Method = pr.StateContext.CustomerInteraction.Method
	}
	for _, a := range requestActions {
		if allowed(pr, a) {
			d.Actions = append(d.Actions, a)
		}
	}
	if d.Deliveries, err = db.subjectDeliveries(s.tenant, pr.PaymentRequestID); err != nil {
		return err
	}
	d.Timeline = timeline(pr, db.Hub.transitions(s.tenant, pr.PaymentRequestID), d.Deliveries)
	db.render(w, r, http.StatusOK, "payment-request", base(r, s, "Payment Request "+shortID(pr.PaymentRequestID), "payment-requests", d))
	return nil
}

// actOnRequest carries out a journey action or cancel, through the service methods the control
// API and the Payment API use.
func (db *Dashboard) actOnRequest(w http.ResponseWriter, r *http.Request, s *session) error {
	pr, err := db.requestOf(s.tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	action := r.PathValue("action")
	if action == "cancel" {
		_, err = db.Service.Cancel(pr.AccountID, pr.PaymentRequestID)
	} else {
		var a mockserver.JourneyAction
		if a, err = mockserver.ParseJourneyAction("action", action); err == nil {
			_, err = db.Service.Act(pr.AccountID, pr.PaymentRequestID, a)
		}
	}
	if err != nil {
		return err
	}
	return done(w, r, Path+"/payment-requests/"+pr.PaymentRequestID, action)
}

// ---- transactions

type transactionsData struct {
	Transactions []*mockserver.PaymentTransaction
}

func (db *Dashboard) transactions(w http.ResponseWriter, r *http.Request, s *session) error {
	o, err := db.objects(s.tenant)
	if err != nil {
		return err
	}
	// Each as its tenant's clock has it now, a transition already due included.
	for i, tr := range o.transactions {
		if now, err := db.Service.PaymentTransaction(tr.AccountID, tr.PaymentTransactionID); err == nil {
			o.transactions[i] = now
		}
	}
	db.render(w, r, http.StatusOK, "transactions", base(r, s, "Transactions", "transactions", transactionsData{o.transactions}))
	return nil
}

type transactionData struct {
	Tx       *mockserver.PaymentTransaction
	Account  string
	Captured int64
	Refunded int64
}

func (db *Dashboard) transaction(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	o, err := db.objects(s.tenant)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(o.transactions, func(tr *mockserver.PaymentTransaction) bool { return tr.PaymentTransactionID == id })
	if i < 0 {
		return mockserver.NotFound("Payment transaction", id)
	}
	tr, err := db.Service.PaymentTransaction(o.transactions[i].AccountID, id)
	if err != nil {
		return err
	}
	_, account := mockserver.SplitScope(tr.AccountID)
	d := transactionData{Tx: tr, Account: account}
	for _, c := range tr.PaymentCaptures {
		d.Captured += c.CapturedAmount
	}
	for _, rf := range tr.PaymentRefunds {
		d.Refunded += rf.RefundedAmount
	}
	db.render(w, r, http.StatusOK, "transaction", base(r, s, "Transaction "+shortID(id), "transactions", d))
	return nil
}

// ---- customer tokens

type tokensData struct {
	Tokens []*mockserver.CustomerToken
}

func (db *Dashboard) tokens(w http.ResponseWriter, r *http.Request, s *session) error {
	o, err := db.objects(s.tenant)
	if err != nil {
		return err
	}
	db.render(w, r, http.StatusOK, "tokens", base(r, s, "Customer tokens", "tokens", tokensData{o.tokens}))
	return nil
}

// revokeToken revokes one of the tenant's customer tokens, as the control API and the Identity
// API do.
func (db *Dashboard) revokeToken(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	o, err := db.objects(s.tenant)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(o.tokens, func(ct *mockserver.CustomerToken) bool { return ct.Token == id })
	if i < 0 {
		return mockserver.NotFound("Customer token", id)
	}
	if _, err := db.Service.RevokeCustomerToken(o.tokens[i].AccountID, id); err != nil {
		return err
	}
	return done(w, r, Path+"/tokens", "revoke")
}

// ---- clock

type clockData struct {
	Now    time.Time
	Offset time.Duration
	Steps  []string
}

// clockSteps are the advance buttons: the waits that matter to Klarna's flows (a webhook retry,
// the network session token's hour, a Payment Request's default expiry, a day).
var clockSteps = []string{"10s", "2m", "15m", "1h", "3h", "24h"}

func (db *Dashboard) clockPage(w http.ResponseWriter, r *http.Request, s *session) error {
	c := db.Service.ClockOf(s.tenant)
	db.render(w, r, http.StatusOK, "clock", base(r, s, "Clock", "clock", clockData{Now: c.Now(), Offset: c.Offset(), Steps: clockSteps}))
	return nil
}

// advanceClock moves the tenant's clock as POST /mock/v1/clock/advance does
// (mockhttp.Server.AdvanceClock).
func (db *Dashboard) advanceClock(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := db.Server.AdvanceClock(s.tenant, strings.TrimSpace(r.PostFormValue("duration"))); err != nil {
		return err
	}
	db.Hub.Notify(s.tenant, Change{Kind: ChangeClock})
	return done(w, r, Path+"/clock", "advance")
}

// ---- rules

type ruleRow struct {
	Name, Description, Source, Result, Reason, Customer string
	Kinds, When                                         []string
}

type rulesData struct {
	Own      bool
	Format   string
	Document string
	Rules    []ruleRow
}

// rulesView lists the rules that decide the tenant's calls, in the order they are tried, with
// document (the tenant's own, or what it just tried to set) in the editor.
func (db *Dashboard) rulesView(tenant string, format, document string) rulesData {
	d := rulesData{Format: format, Document: document}
	if doc := db.Service.TenantRules(tenant); doc != nil {
		d.Own = true
		if document == "" {
			d.Document, d.Format = doc.Text, "yaml"
			if doc.JSON {
				d.Format = "json"
			}
		}
	}
	for _, ri := range db.Service.RulesOf(tenant).Rules() {
		row := ruleRow{Name: ri.Name, Description: ri.Description, Source: ri.Decision.Source, When: ri.Conditions,
			Result: string(ri.Decision.Result), Reason: ri.Decision.ResultReason}
		for _, k := range ri.Kinds {
			row.Kinds = append(row.Kinds, string(k))
		}
		if c := ri.Decision.Customer; c != rules.CustomerWait {
			row.Customer = string(c) + " after " + ri.Decision.CustomerDelay.String()
		}
		d.Rules = append(d.Rules, row)
	}
	return d
}

func (db *Dashboard) rulesPage(w http.ResponseWriter, r *http.Request, s *session) error {
	db.render(w, r, http.StatusOK, "rules", base(r, s, "Rules", "rules", db.rulesView(s.tenant, "yaml", "")))
	return nil
}

// setRules makes the form's document the tenant's rules, checked as PUT /mock/v1/rules checks
// it; a bad document changes nothing and comes back in the editor with every problem named.
func (db *Dashboard) setRules(w http.ResponseWriter, r *http.Request, s *session) error {
	text := strings.ReplaceAll(r.PostFormValue("document"), "\r\n", "\n")
	format := r.PostFormValue("format")
	doc, err := mockserver.ParseRules([]byte(text), format == "json")
	if err != nil {
		ke := mockserver.AsError(err)
		p := base(r, s, "Rules", "rules", db.rulesView(s.tenant, format, text))
		p.Error, p.Problems, p.Notice = ke.ErrorMessage, problems(ke), ""
		db.render(w, r, ke.Status, "rules", p)
		return nil
	}
	db.Service.SetTenantRules(s.tenant, doc)
	db.Hub.Notify(s.tenant, Change{Kind: ChangeRules})
	return done(w, r, Path+"/rules", "rules")
}

func (db *Dashboard) deleteRules(w http.ResponseWriter, r *http.Request, s *session) error {
	db.Service.SetTenantRules(s.tenant, nil)
	db.Hub.Notify(s.tenant, Change{Kind: ChangeRules})
	return done(w, r, Path+"/rules", "rules-off")
}

// ---- helpers shared by the pages of deliveries

// deliveries returns the tenant's webhooks and its newest deliveries to any of them, at most
// limit, newest first.
func (db *Dashboard) deliveries(tenant string, limit int) ([]*webhook.Webhook, []*webhook.Delivery, error) {
	if db.Notifier == nil {
		return nil, nil, nil
	}
	hooks, err := db.webhooksOf(tenant)
	if err != nil {
		return nil, nil, err
	}
	var all []*webhook.Delivery
	for _, h := range hooks {
		ds, err := db.Notifier.Deliveries(tenant, h.WebhookID, limit)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, ds...)
	}
	slices.SortStableFunc(all, func(a, b *webhook.Delivery) int { return cmp.Compare(b.CreatedAt.UnixNano(), a.CreatedAt.UnixNano()) })
	return hooks, all[:min(limit, len(all))], nil
}

// webhooksOf lists the tenant's webhooks, the static one configured at start first when there
// is one.
func (db *Dashboard) webhooksOf(tenant string) ([]*webhook.Webhook, error) {
	hooks, err := db.Notifier.ListWebhooks(tenant)
	if err != nil {
		return nil, err
	}
	if db.Notifier.Static() {
		hooks = append([]*webhook.Webhook{{WebhookID: webhook.StaticWebhookID, URL: "(configured at start)", EventTypes: []string{"*"}, Status: webhook.StatusEnabled}}, hooks...)
	}
	return hooks, nil
}

// subjectDeliveries returns the tenant's deliveries of events about subject, oldest first.
func (db *Dashboard) subjectDeliveries(tenant, subject string) ([]*webhook.Delivery, error) {
	_, all, err := db.deliveries(tenant, webhook.MaxDeliveryLimit)
	var out []*webhook.Delivery
	for _, d := range slices.Backward(all) {
		if d.Subject == subject {
			out = append(out, d)
		}
	}
	return out, err
}
