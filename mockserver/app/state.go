package app

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/faults"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// StateFormat names the version of the state document (docs/state.md). A change that an older
// mock could not import gets a new version.
const StateFormat = "klarna-mock-state/1"

// stateDocument is a tenant's state as GET /mock/v1/state answers it and PUT /mock/v1/state
// takes it. Objects name their partner account, never the tenant: the importer's tenant is the
// one they are stored under.
type stateDocument struct {
	Format string `json:"format"`
	// Clock is the tenant's clock at the export.
	Clock clockDoc `json:"clock"`
	// Rules is the tenant's own rules document; nil on the defaults.
	Rules               *rulesDoc          `json:"rules,omitempty"`
	PaymentRequests     []requestDoc       `json:"payment_requests"`
	PaymentTransactions []transactionDoc   `json:"payment_transactions"`
	CustomerTokens      []tokenDoc         `json:"customer_tokens"`
	NetworkSessions     []sessionDoc       `json:"network_sessions"`
	IdempotencyRecords  []idempotencyDoc   `json:"idempotency_records"`
	SigningKeys         []signingKeyDoc    `json:"signing_keys"`
	Webhooks            []*webhook.Webhook `json:"webhooks"`
	Deliveries          []deliveryDoc      `json:"deliveries"`
	// Faults are the tenant's faults as definitions, oldest first; a fault with a count holds
	// the count it has left. An import adds them afresh: new ids, nothing fired yet, and a
	// seeded probability starts its sequence again.
	Faults []faults.Definition `json:"faults"`
}

// clockDoc is the tenant's clock: now is what an import restores, offset says how far the
// tenant had moved its clock ahead of the mock's.
type clockDoc struct {
	Now    time.Time `json:"now"`
	Offset string    `json:"offset"`
}

// rulesDoc is the tenant's own rules document as it was sent.
type rulesDoc struct {
	Format   string `json:"format"`
	Document string `json:"document"`
}

// The *Doc types below carry a stored object whole: its Klarna fields (the embedded object's own
// JSON) and, beside them, the fields the mock keeps that Klarna's answers do not show, with the
// partner account in place of the scope.

type requestDoc struct {
	PartnerAccountID string `json:"partner_account_id"`
	*mockserver.PaymentRequest
	Request       mockserver.AuthorizeRequest `json:"request"`
	ChargedToken  string                      `json:"charged_token,omitempty"`
	IssuedToken   *tokenDoc                   `json:"issued_token,omitempty"`
	TransactionID string                      `json:"transaction_id,omitempty"`
	FinalizedAt   *time.Time                  `json:"finalized_at,omitempty"`
}

type transactionDoc struct {
	PartnerAccountID string `json:"partner_account_id"`
	*mockserver.PaymentTransaction
	UpdatedAt           time.Time `json:"updated_at"`
	ReleasedAmount      int64     `json:"released_amount,omitzero"`
	Operations          int       `json:"operations,omitzero"`
	NetworkSessionToken string    `json:"network_session_token,omitempty"`
	CustomerToken       string    `json:"customer_token,omitempty"`
}

type tokenDoc struct {
	PartnerAccountID string `json:"partner_account_id"`
	*mockserver.CustomerToken
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	Email     string    `json:"email,omitempty"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

type sessionDoc struct {
	PartnerAccountID string    `json:"partner_account_id"`
	Token            string    `json:"klarna_network_session_token"`
	PaymentRequestID string    `json:"payment_request_id,omitempty"`
	Email            string    `json:"email,omitempty"`
	Consent          bool      `json:"consent,omitzero"`
	Scopes           []string  `json:"scopes,omitempty"`
	ExpiresAt        time.Time `json:"expires_at"`
	SpentBy          string    `json:"spent_by,omitempty"`
	SpentAt          time.Time `json:"spent_at,omitzero"`
}

// idempotencyDoc is the first answer to a request with a Klarna-Idempotency-Key. The record's
// scope (tenant, method and path) is split, so that an import scopes it to the importer.
type idempotencyDoc struct {
	Method     string            `json:"method"`
	Path       string            `json:"path"`
	Key        string            `json:"key"`
	BodySHA256 string            `json:"body_sha256"`
	Status     int               `json:"status"`
	Header     map[string]string `json:"header,omitempty"`
	Body       []byte            `json:"body"`
	ExpiresAt  time.Time         `json:"expires_at"`
}

type signingKeyDoc struct {
	*webhook.SigningKey
	// Secret is the HMAC key the tenant's webhooks are signed with.
	Secret string `json:"secret"`
}

type deliveryDoc struct {
	*webhook.Delivery
	// Body is the exact envelope every attempt posts.
	Body json.RawMessage `json:"body"`
}

// stateCounts says how many objects of each kind an import stored.
type stateCounts struct {
	PaymentRequests     int `json:"payment_requests"`
	PaymentTransactions int `json:"payment_transactions"`
	CustomerTokens      int `json:"customer_tokens"`
	NetworkSessions     int `json:"network_sessions"`
	IdempotencyRecords  int `json:"idempotency_records"`
	SigningKeys         int `json:"signing_keys"`
	Webhooks            int `json:"webhooks"`
	Deliveries          int `json:"deliveries"`
	Faults              int `json:"faults"`
}

// importAnswer is the body of PUT /mock/v1/state.
type importAnswer struct {
	Imported bool        `json:"imported"`
	Objects  stateCounts `json:"objects"`
}

// ExportState returns the tenant's state document, read in one store transaction. Idempotency
// records are exported while they are honoured and once their answer is stored: an expired one
// changes nothing, a reservation belongs to a call under way.
func (m *Mock) ExportState(tenant string) (any, error) {
	c := m.Clock.Tenant(tenant)
	now := c.Now()
	doc := &stateDocument{
		Format:              StateFormat,
		Clock:               clockDoc{Now: now, Offset: c.Offset().String()},
		PaymentRequests:     []requestDoc{},
		PaymentTransactions: []transactionDoc{},
		CustomerTokens:      []tokenDoc{},
		NetworkSessions:     []sessionDoc{},
		IdempotencyRecords:  []idempotencyDoc{},
		SigningKeys:         []signingKeyDoc{},
		Webhooks:            []*webhook.Webhook{},
		Deliveries:          []deliveryDoc{},
		Faults:              []faults.Definition{},
	}
	// On a database, the faults and their counts as every mock on it left them.
	if err := m.Faults.Refresh(tenant); err != nil {
		return nil, err
	}
	for _, v := range m.Faults.List(tenant) {
		def := v.Definition
		if v.Remaining != nil {
			def.Count = int(*v.Remaining)
		}
		doc.Faults = append(doc.Faults, def)
	}
	if rd := m.Service.TenantRules(tenant); rd != nil {
		doc.Rules = &rulesDoc{Format: "yaml", Document: rd.Text}
		if rd.JSON {
			doc.Rules.Format = "json"
		}
	}
	err := m.store.ViewAll(func(tx mockserver.Tx, wtx webhook.Tx) error {
		objs, err := tx.Objects(tenant)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := doc.add(tenant, o, now); err != nil {
				return err
			}
		}
		keys, err := wtx.SigningKeys(tenant)
		if err != nil {
			return err
		}
		for _, k := range keys {
			doc.SigningKeys = append(doc.SigningKeys, signingKeyDoc{SigningKey: k, Secret: k.Secret})
		}
		if doc.Webhooks, err = wtx.Webhooks(tenant); err != nil {
			return err
		}
		// The deliveries of a deleted webhook stay readable by id, but their webhook is not in
		// the document, and an import refuses a delivery for a webhook it does not hold: they
		// are left out, as the webhook is.
		hooks := map[string]bool{webhook.StaticWebhookID: m.Notifier.Static()}
		for _, w := range doc.Webhooks {
			hooks[w.WebhookID] = true
		}
		ds, err := wtx.AccountDeliveries(tenant)
		for _, d := range ds {
			if hooks[d.WebhookID] {
				doc.Deliveries = append(doc.Deliveries, deliveryDoc{Delivery: d, Body: d.Body})
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if doc.Webhooks == nil {
		doc.Webhooks = []*webhook.Webhook{}
	}
	return doc, nil
}

// add puts a stored object of the tenant into the document.
func (doc *stateDocument) add(tenant string, o mockserver.Retained, now time.Time) error {
	switch o := o.(type) {
	case *mockserver.PaymentRequest:
		doc.PaymentRequests = append(doc.PaymentRequests, requestOut(o))
	case *mockserver.PaymentTransaction:
		doc.PaymentTransactions = append(doc.PaymentTransactions, transactionDoc{
			PartnerAccountID: accountOf(o.AccountID), PaymentTransaction: o, UpdatedAt: o.UpdatedAt, ReleasedAmount: o.ReleasedAmount,
			Operations: o.Operations, NetworkSessionToken: o.NetworkSessionToken, CustomerToken: o.CustomerToken,
		})
	case *mockserver.CustomerToken:
		doc.CustomerTokens = append(doc.CustomerTokens, tokenOut(o))
	case *mockserver.NetworkSession:
		doc.NetworkSessions = append(doc.NetworkSessions, sessionDoc{
			PartnerAccountID: accountOf(o.AccountID), Token: o.Token, PaymentRequestID: o.PaymentRequestID,
			Email: o.Email, Consent: o.Consent, Scopes: o.Scopes, ExpiresAt: o.ExpiresAt, SpentBy: o.SpentBy, SpentAt: o.SpentAt,
		})
	case *mockserver.IdempotencyRecord:
		route, ok := strings.CutPrefix(o.Scope, tenant+" ")
		method, path, _ := strings.Cut(route, " ")
		if !ok || o.Status == 0 || o.ExpiresAt <= now.UnixNano() {
			return nil
		}
		doc.IdempotencyRecords = append(doc.IdempotencyRecords, idempotencyDoc{
			Method: method, Path: path, Key: o.Key, BodySHA256: hex.EncodeToString(o.BodyDigest[:]),
			Status: o.Status, Header: o.Header, Body: o.Body, ExpiresAt: o.DoneAt(),
		})
	default:
		return fmt.Errorf("state export: stored object of unknown kind %T", o)
	}
	return nil
}

// accountOf is the partner account of a scope.
func accountOf(scope string) string {
	_, account := mockserver.SplitScope(scope)
	return account
}

func requestOut(pr *mockserver.PaymentRequest) requestDoc {
	d := requestDoc{
		PartnerAccountID: accountOf(pr.AccountID), PaymentRequest: pr, Request: *pr.InitialRequest(),
		ChargedToken: pr.ChargedToken, TransactionID: pr.TransactionID, FinalizedAt: pr.FinalizedAt,
	}
	if pr.IssuedToken != nil {
		t := tokenOut(pr.IssuedToken)
		d.IssuedToken = &t
	}
	return d
}

func tokenOut(ct *mockserver.CustomerToken) tokenDoc {
	return tokenDoc{
		PartnerAccountID: accountOf(ct.AccountID), CustomerToken: ct, Status: ct.Status,
		CreatedAt: ct.CreatedAt, Email: ct.Email, RevokedAt: ct.RevokedAt,
	}
}

// importedState is a checked document turned into the objects to store for the tenant.
type importedState struct {
	now      time.Time
	rules    *mockserver.RulesDocument
	objects  []mockserver.Retained
	keys     []*webhook.SigningKey
	webhooks []*webhook.Webhook
	// deliveries are all of them; pending the ones still to be attempted, oldest first.
	deliveries, pending []*webhook.Delivery
	faults              []faults.Definition
	counts              stateCounts
}

// errDryRun aborts the store transaction that tries an import out.
var errDryRun = errors.New("state import: dry run")

// ImportState replaces the tenant's state with the document raw (docs/state.md). The document is
// checked whole, and then tried in a store transaction that is rolled back, so that an id held
// by another tenant is found too; a document refused changes nothing. Only then is the tenant
// wiped as Reset wipes it, its clock set to the document's and its objects stored in one
// transaction, and their timers, its webhooks' deliveries and its rules taken up. Imports are
// one at a time.
func (m *Mock) ImportState(tenant string, raw []byte, mayUse func(partnerAccountID string) bool) (any, error) {
	doc, err := decodeState(raw)
	if err != nil {
		return nil, err
	}
	st, err := m.checkState(tenant, doc, mayUse)
	if err != nil {
		return nil, err
	}
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	if err := m.storeState(tenant, st, true); !errors.Is(err, errDryRun) {
		return nil, err
	}
	if err := m.forgetTenant(tenant); err != nil {
		return nil, err
	}
	if ahead := st.now.Sub(m.Clock.Now()); ahead > 0 {
		if _, err := m.Clock.Tenant(tenant).TryAdvance(ahead); err != nil {
			return nil, fmt.Errorf("state import: setting the clock of tenant %s: %w", tenant, err)
		}
	}
	if err := m.storeState(tenant, st, false); err != nil {
		return nil, fmt.Errorf("state import: storing the state of tenant %s, wiped already: %w", tenant, err)
	}
	m.Service.SetTenantRules(tenant, st.rules)
	m.Service.Resume(st.objects)
	m.Notifier.Restore(tenant, len(st.webhooks), st.pending)
	for _, def := range st.faults {
		if _, err := m.Faults.Add(tenant, def, m.Clock.Tenant(tenant).Now()); err != nil {
			return nil, fmt.Errorf("state import: adding a fault checked already: %w", err)
		}
	}
	m.log.Debug("imported tenant state", "tenant", tenant, "objects", st.counts)
	return importAnswer{Imported: true, Objects: st.counts}, nil
}

// storeState replaces the tenant's stored objects with st's in one transaction; dryRun rolls it
// back and returns errDryRun when everything could be stored.
func (m *Mock) storeState(tenant string, st *importedState, dryRun bool) error {
	return m.store.UpdateAll(func(tx mockserver.Tx, wtx webhook.Tx) error {
		if err := tx.DeleteTenant(tenant); err != nil {
			return err
		}
		if err := putAll(st.objects, tx); err != nil {
			return err
		}
		for _, k := range st.keys {
			if err := wtx.PutSigningKey(k); err != nil {
				return err
			}
		}
		for _, w := range st.webhooks {
			if err := wtx.PutWebhook(w); err != nil {
				return err
			}
		}
		for _, d := range st.deliveries {
			if err := wtx.PutDelivery(d); err != nil {
				return err
			}
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
}

// putAll stores the simulator's objects.
func putAll(objs []mockserver.Retained, tx mockserver.Tx) error {
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *mockserver.PaymentRequest:
			err = tx.PutPaymentRequest(o)
		case *mockserver.PaymentTransaction:
			err = tx.PutPaymentTransaction(o)
		case *mockserver.CustomerToken:
			err = tx.PutCustomerToken(o)
		case *mockserver.NetworkSession:
			err = tx.PutNetworkSession(o)
		case *mockserver.IdempotencyRecord:
			err = tx.PutIdempotent(o)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// decodeState reads a state document strictly: an unknown field is refused, so that a typo does
// not go unnoticed, and so is a document of another format version.
func decodeState(raw []byte) (*stateDocument, error) {
	var head struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, mockserver.Invalid("body", "the body is not a JSON state document: "+err.Error())
	}
	if head.Format != StateFormat {
		return nil, mockserver.Invalid("format", fmt.Sprintf("is %q; this mock imports %q documents, as GET /mock/v1/state exports them", head.Format, StateFormat))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var doc stateDocument
	if err := dec.Decode(&doc); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, mockserver.Invalid(te.Field, "expected "+te.Type.String()+", got "+te.Value)
		}
		return nil, mockserver.Invalid("body", "the state document does not decode: "+err.Error())
	}
	if dec.More() {
		return nil, mockserver.Invalid("body", "the state document is followed by more data")
	}
	return &doc, nil
}

// checker collects what is wrong with a document, each problem named by its place in it.
type checker struct {
	fields []mockserver.FieldError
	mayUse func(string) bool
	// checkHook is what webhook creation refuses of a webhook (webhook.Notifier.CheckWebhook),
	// and static reports that the mock has a static webhook, whose deliveries are in the
	// tenant's log although the webhook is configuration, not in the document.
	checkHook func(*webhook.Webhook) []mockserver.FieldError
	static    bool
}

func (c *checker) add(parameter, format string, args ...any) {
	c.fields = append(c.fields, mockserver.FieldError{Parameter: parameter, ErrorMessage: fmt.Sprintf(format, args...)})
}

// require reports parameter when ok is false.
func (c *checker) require(ok bool, parameter, message string) {
	if !ok {
		c.add(parameter, "%s", message)
	}
}

// id checks an id: present, with the prefix its kind's ids have, and not seen before in seen.
func (c *checker) id(parameter, id, prefix string, seen map[string]bool) {
	switch {
	case !strings.HasPrefix(id, prefix) || len(id) == len(prefix):
		c.add(parameter, "must be an id starting with %s", prefix)
	case seen[id]:
		c.add(parameter, "%s appears twice in the document", id)
	}
	seen[id] = true
}

// account checks a partner account the tenant is to hold objects of.
func (c *checker) account(parameter, account string) {
	if !c.mayUse(account) {
		c.add(parameter, "this API key cannot use partner account %q (with an accounts file a key uses only its own account)", account)
	}
}

func (c *checker) oneOf(parameter, value string, allowed ...string) {
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	c.add(parameter, "is %q; must be one of %s", value, strings.Join(allowed, ", "))
}

// problems reports under parameter each problem a Klarna error of a nested check names, or its
// message when it names none. The rules loader names lines, not fields, so its problems stay
// under the one parameter.
func (c *checker) problems(parameter string, err error) {
	ke := mockserver.AsError(err)
	if len(ke.Errors) == 0 {
		c.add(parameter, "%s", ke.ErrorMessage)
	}
	for _, fe := range ke.Errors {
		c.add(parameter, "%s: %s", fe.Parameter, fe.ErrorMessage)
	}
}

func (c *checker) set(parameter string, t time.Time) {
	c.require(!t.IsZero(), parameter, "is required")
}

// optionalID checks an id that may be absent: when given, it has its kind's prefix.
func (c *checker) optionalID(parameter, id, prefix string) {
	c.require(id == "" || strings.HasPrefix(id, prefix) && len(id) > len(prefix), parameter, "must be an id starting with "+prefix)
}

// currency checks a currency code as the Payment API's contract takes one (Currency in
// contracts/klarna-payments.yaml): three letters.
func (c *checker) currency(parameter, currency string) {
	letters := strings.Trim(strings.ToUpper(currency), "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
	c.require(len(currency) == 3 && letters, parameter, "must be a three-letter ISO 4217 currency code")
}

// scopes checks customer token scopes: each one the API issues (docs/klarna.md §7).
func (c *checker) scopes(parameter string, scopes []string) {
	for i, s := range scopes {
		c.oneOf(fmt.Sprintf("%s[%d]", parameter, i), s, mockserver.ScopeCustomerPresent, mockserver.ScopeCustomerNotPresent)
	}
}

// named reports under prefix each problem a domain check names.
func (c *checker) named(prefix string, fields []mockserver.FieldError) {
	for _, f := range fields {
		c.add(prefix+f.Parameter, "%s", f.ErrorMessage)
	}
}

// checkState checks the whole document and turns it into the tenant's objects. Problems are one
// 400 listing each; a kind holding more objects than the tenant may is a 429 naming the quota.
func (m *Mock) checkState(tenant string, doc *stateDocument, mayUse func(string) bool) (*importedState, error) {
	c := &checker{mayUse: mayUse, checkHook: m.Notifier.CheckWebhook, static: m.Notifier.Static()}
	st := &importedState{now: doc.Clock.Now}
	c.set("clock.now", doc.Clock.Now)
	if ahead := doc.Clock.Now.Sub(m.Clock.Now()); ahead > clock.MaxAdvance {
		c.add("clock.now", "is %s ahead of the mock's time; a clock moves at most %s at once", ahead, clock.MaxAdvance)
	}
	if r := doc.Rules; r != nil {
		c.oneOf("rules.format", r.Format, "yaml", "json")
		rd, err := mockserver.ParseRules([]byte(r.Document), r.Format == "json")
		if err != nil {
			c.problems("rules.document", err)
		}
		st.rules = rd
	}
	seen := map[string]bool{}
	for i, d := range doc.PaymentRequests {
		st.objects = append(st.objects, c.request(fmt.Sprintf("payment_requests[%d]", i), tenant, d, seen))
	}
	for i, d := range doc.PaymentTransactions {
		st.objects = append(st.objects, c.transaction(fmt.Sprintf("payment_transactions[%d]", i), tenant, d, seen))
	}
	for i, d := range doc.CustomerTokens {
		st.objects = append(st.objects, c.token(fmt.Sprintf("customer_tokens[%d]", i), tenant, d, seen))
	}
	for i, d := range doc.NetworkSessions {
		st.objects = append(st.objects, c.session(fmt.Sprintf("network_sessions[%d]", i), tenant, d, seen))
	}
	for i, d := range doc.IdempotencyRecords {
		st.objects = append(st.objects, c.idempotency(fmt.Sprintf("idempotency_records[%d]", i), tenant, d, seen))
	}
	c.webhookState(tenant, doc, st)
	// A registry of its own checks the faults as adding them will, and changes nothing else.
	scratch := faults.NewRegistry(0)
	for i, def := range doc.Faults {
		if _, err := scratch.Add(tenant, def, doc.Clock.Now); err != nil {
			// A fault's problems name its fields, as POST /mock/v1/faults names them.
			if ke := mockserver.AsError(err); len(ke.Errors) > 0 {
				c.named(fmt.Sprintf("faults[%d].", i), ke.Errors)
			} else {
				c.problems(fmt.Sprintf("faults[%d]", i), err)
			}
		}
	}
	st.faults = doc.Faults
	st.counts = stateCounts{
		PaymentRequests: len(doc.PaymentRequests), PaymentTransactions: len(doc.PaymentTransactions),
		CustomerTokens: len(doc.CustomerTokens), NetworkSessions: len(doc.NetworkSessions),
		IdempotencyRecords: len(doc.IdempotencyRecords), SigningKeys: len(doc.SigningKeys),
		Webhooks: len(doc.Webhooks), Deliveries: len(doc.Deliveries), Faults: len(doc.Faults),
	}
	if len(c.fields) > 0 {
		msg := "The state document is invalid: " + c.fields[0].Parameter + ": " + c.fields[0].ErrorMessage
		if len(c.fields) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(c.fields)-1)
		}
		return nil, mockserver.NewError(mockserver.CodeValidation, msg, c.fields...)
	}
	return st, m.checkQuotas(st)
}

func (c *checker) request(p, tenant string, d requestDoc, seen map[string]bool) *mockserver.PaymentRequest {
	c.account(p+".partner_account_id", d.PartnerAccountID)
	if d.PaymentRequest == nil {
		c.add(p+".payment_request_id", "is required")
		return &mockserver.PaymentRequest{}
	}
	pr := d.PaymentRequest.Clone()
	c.id(p+".payment_request_id", pr.PaymentRequestID, mockserver.PrefixPaymentRequest, seen)
	c.oneOf(p+".state", pr.State, requestStates[:]...)
	if pr.PreviousState != "" {
		c.oneOf(p+".previous_state", pr.PreviousState, requestStates[:]...)
	}
	if pr.StateReason != "" {
		c.oneOf(p+".state_reason", pr.StateReason, mockserver.ReasonPartnerCanceled, mockserver.ReasonPurchaseFlowAborted,
			mockserver.ReasonCustomerDeclined, mockserver.ReasonInteractionExpired)
	}
	c.currency(p+".currency", pr.Currency)
	c.requestAmounts(p, pr, &d.Request)
	c.requestTimes(p, pr)
	c.stateContext(p, pr, d)
	pr.AccountID = mockserver.Scope(tenant, d.PartnerAccountID)
	pr.SetInitialRequest(&d.Request)
	pr.ChargedToken, pr.TransactionID, pr.FinalizedAt = d.ChargedToken, d.TransactionID, d.FinalizedAt
	pr.IssuedToken = nil
	if d.IssuedToken != nil {
		pr.IssuedToken = c.token(p+".issued_token", tenant, *d.IssuedToken, map[string]bool{})
	}
	return pr
}

// requestStates are the states of a Payment Request (docs/klarna.md §6).
var requestStates = [...]string{mockserver.StateSubmitted, mockserver.StateInProgress, mockserver.StateCompleted,
	mockserver.StateDeclined, mockserver.StateExpired, mockserver.StateCanceled}

// requestAmounts checks a Payment Request's amount and currency against its initial authorize,
// which the mock keeps in step with them (a step-up copies them, an update changes both): the
// authorize asked for a transaction of a positive amount, a customer token, or both.
func (c *checker) requestAmounts(p string, pr *mockserver.PaymentRequest, req *mockserver.AuthorizeRequest) {
	c.require(req.Currency == pr.Currency, p+".request.currency", "must be the payment request's currency")
	c.require(req.RequestPaymentTransaction != nil || req.RequestCustomerToken != nil, p+".request",
		"must request a payment transaction, a customer token, or both")
	var want int64
	if rpt := req.RequestPaymentTransaction; rpt != nil {
		want = rpt.Amount
		c.require(rpt.Amount > 0, p+".request.request_payment_transaction.amount", "must be more than 0")
	}
	if rct := req.RequestCustomerToken; rct != nil {
		c.require(len(rct.Scopes) > 0, p+".request.request_customer_token.scopes", "must name at least one scope")
		c.scopes(p+".request.request_customer_token.scopes", rct.Scopes)
	}
	switch {
	case pr.Amount < 0:
		c.add(p+".amount", "must not be negative")
	case pr.Amount != want:
		c.add(p+".amount", "is %d; the initial authorize (request) asks for %d", pr.Amount, want)
	}
}

// requestTimes checks a Payment Request's times: its life from creation to expiry is one an
// interaction_expiry may ask for (15 minutes to 48 hours, docs/klarna.md §6), and the times its
// state sets are there.
func (c *checker) requestTimes(p string, pr *mockserver.PaymentRequest) {
	c.set(p+".created_at", pr.CreatedAt)
	c.set(p+".expires_at", pr.ExpiresAt)
	if life := pr.ExpiresAt.Sub(pr.CreatedAt); !pr.CreatedAt.IsZero() && !pr.ExpiresAt.IsZero() &&
		(life < mockserver.MinRequestExpiry || life > mockserver.MaxRequestExpiry) {
		c.add(p+".expires_at", "is %s after created_at; a payment request lives %s to %s", life, mockserver.MinRequestExpiry, mockserver.MaxRequestExpiry)
	}
	c.require(!pr.UpdatedAt.Before(pr.CreatedAt), p+".updated_at", "must not be before created_at")
	c.require(pr.State != mockserver.StateCompleted || pr.CompletedAt != nil, p+".completed_at", "is required while the payment request is COMPLETED")
	c.require(pr.State != mockserver.StateCanceled || pr.CanceledAt != nil, p+".canceled_at", "is required while the payment request is CANCELED")
}

// stateContext checks what a Payment Request hands over in its state: how the customer reaches
// the journey, and once COMPLETED the network session token and the customer token issued
// (docs/klarna.md §6, §7); only a COMPLETED request is finalized, into a transaction of its
// amount.
func (c *checker) stateContext(p string, pr *mockserver.PaymentRequest, d requestDoc) {
	sc := pr.StateContext
	if sc == nil || sc.CustomerInteraction == nil {
		c.add(p+".state_context.customer_interaction", "is required: every payment request says how the customer reaches the journey")
	} else {
		ci := sc.CustomerInteraction
		c.oneOf(p+".state_context.customer_interaction.method", ci.Method, mockserver.MethodHandover, mockserver.MethodSDK)
		c.require(ci.PaymentRequestID == pr.PaymentRequestID, p+".state_context.customer_interaction.payment_request_id", "must be the payment request's id")
	}
	completed := pr.State == mockserver.StateCompleted || pr.State == mockserver.StateCanceled && pr.CompletedAt != nil
	if completed {
		token := ""
		if sc != nil {
			token = sc.KlarnaNetworkSessionToken
		}
		c.require(strings.HasPrefix(token, mockserver.PrefixNetworkSession), p+".state_context.klarna_network_session_token",
			"is required once the payment request was COMPLETED")
	}
	issues := completed && d.Request.RequestCustomerToken != nil
	c.require(issues == (d.IssuedToken != nil), p+".issued_token", "is there exactly when a COMPLETED payment request issued the customer token its request asked for")
	if d.IssuedToken != nil && d.IssuedToken.CustomerToken != nil {
		kc := (*mockserver.KlarnaCustomer)(nil)
		if sc != nil {
			kc = sc.KlarnaCustomer
		}
		c.require(kc != nil && kc.CustomerToken == d.IssuedToken.Token, p+".state_context.klarna_customer.customer_token", "must be the issued_token")
	}
	c.optionalID(p+".charged_token", d.ChargedToken, mockserver.PrefixCustomerToken)
	c.require(d.FinalizedAt == nil || pr.State == mockserver.StateCompleted, p+".finalized_at", "only a COMPLETED payment request is finalized")
	c.optionalID(p+".transaction_id", d.TransactionID, mockserver.PrefixPaymentTransaction)
	makes := d.FinalizedAt != nil && d.Request.RequestPaymentTransaction != nil
	c.require(makes == (d.TransactionID != ""), p+".transaction_id", "is there exactly when the final authorize created a transaction")
}

func (c *checker) transaction(p, tenant string, d transactionDoc, seen map[string]bool) *mockserver.PaymentTransaction {
	c.account(p+".partner_account_id", d.PartnerAccountID)
	if d.PaymentTransaction == nil {
		c.add(p+".payment_transaction_id", "is required")
		return &mockserver.PaymentTransaction{}
	}
	tr := d.PaymentTransaction.Clone()
	c.id(p+".payment_transaction_id", tr.PaymentTransactionID, mockserver.PrefixPaymentTransaction, seen)
	c.oneOf(p+".state", tr.State, mockserver.TransactionAuthorized, mockserver.TransactionCompleted,
		mockserver.TransactionExpired, mockserver.TransactionClosed)
	c.require(tr.Amount > 0, p+".amount", "must be more than 0")
	c.currency(p+".currency", tr.Currency)
	c.set(p+".created_at", tr.CreatedAt)
	c.set(p+".expires_at", tr.ExpiresAt)
	tr.AccountID = mockserver.Scope(tenant, d.PartnerAccountID)
	tr.UpdatedAt, tr.ReleasedAmount, tr.Operations = d.UpdatedAt, d.ReleasedAmount, d.Operations
	tr.NetworkSessionToken, tr.CustomerToken = d.NetworkSessionToken, d.CustomerToken
	c.optionalID(p+".network_session_token", tr.NetworkSessionToken, mockserver.PrefixNetworkSession)
	c.optionalID(p+".customer_token", tr.CustomerToken, mockserver.PrefixCustomerToken)
	if tr.Amount > 0 {
		c.transactionAmounts(p, tr)
	}
	return tr
}

// transactionAmounts checks what was done with a transaction as its operations leave it
// (mockserver/transaction.go, docs/klarna.md §10): captures and refunds of positive amounts,
// within Klarna's limits, never capturing more than was authorized nor refunding more than was
// captured, of the transaction or of one capture; and a state and funding state that go with
// what remains authorized. The amount authorized is positive, checked already.
func (c *checker) transactionAmounts(p string, tr *mockserver.PaymentTransaction) {
	c.require(len(tr.PaymentCaptures) <= mockserver.MaxCaptures, p+".payment_captures", fmt.Sprintf("a transaction has at most %d captures", mockserver.MaxCaptures))
	c.require(len(tr.PaymentRefunds) <= mockserver.MaxRefunds, p+".payment_refunds", fmt.Sprintf("a transaction has at most %d refunds", mockserver.MaxRefunds))
	ops := len(tr.PaymentCaptures) + len(tr.PaymentRefunds)
	c.require(tr.Operations >= ops && tr.Operations <= mockserver.MaxOperations, p+".operations",
		fmt.Sprintf("counts the captures and refunds (%d) and the updates and voids, at most %d", ops, mockserver.MaxOperations))
	c.require(tr.ReleasedAmount >= 0, p+".released_amount", "must not be negative")
	var captured, refunded int64
	byCapture := map[string]int64{}
	for i, pc := range tr.PaymentCaptures {
		q := fmt.Sprintf("%s.payment_captures[%d]", p, i)
		c.id(q+".payment_capture_id", pc.PaymentCaptureID, mockserver.PrefixPaymentCapture, map[string]bool{})
		c.require(pc.CapturedAmount > 0, q+".captured_amount", "must be more than 0")
		c.set(q+".captured_at", pc.CapturedAt)
		captured += pc.CapturedAmount
		byCapture[pc.PaymentCaptureID] = pc.CapturedAmount
	}
	for i, r := range tr.PaymentRefunds {
		q := fmt.Sprintf("%s.payment_refunds[%d]", p, i)
		c.id(q+".payment_refund_id", r.PaymentRefundID, mockserver.PrefixPaymentRefund, map[string]bool{})
		c.require(r.RefundedAmount > 0, q+".refunded_amount", "must be more than 0")
		c.set(q+".refunded_at", r.RefundedAt)
		refunded += r.RefundedAmount
		if r.PaymentCaptureID == "" {
			continue
		}
		left, ok := byCapture[r.PaymentCaptureID]
		c.require(ok, q+".payment_capture_id", "must be one of the transaction's payment_captures")
		c.require(!ok || r.RefundedAmount <= left, q+".refunded_amount", "refunds more than is left of its capture")
		byCapture[r.PaymentCaptureID] = left - r.RefundedAmount
	}
	c.require(refunded <= captured, p+".payment_refunds", fmt.Sprintf("refund %d, more than the %d captured", refunded, captured))
	funding := mockserver.FundingFunded
	if tr.State == mockserver.TransactionExpired || tr.State == mockserver.TransactionClosed {
		funding = mockserver.FundingExpired
	}
	c.oneOf(p+".payment_funding.state", tr.PaymentFunding.State, funding)
	remaining := tr.Amount - captured - tr.ReleasedAmount
	if remaining < 0 {
		c.add(p+".payment_captures", "capture %d and release %d, more than the %d authorized", captured, tr.ReleasedAmount, tr.Amount)
		return
	}
	switch tr.State {
	case mockserver.TransactionAuthorized, mockserver.TransactionExpired:
		c.require(remaining > 0, p+".state", "is "+tr.State+", which leaves an amount authorized; nothing is")
	case mockserver.TransactionCompleted:
		c.require(remaining == 0 && captured > 0, p+".state", "is COMPLETED: something is captured and nothing remains authorized")
	case mockserver.TransactionClosed:
		c.require(remaining == 0 && captured == 0, p+".state", "is CLOSED: nothing was captured and the authorization was released")
	}
}

func (c *checker) token(p, tenant string, d tokenDoc, seen map[string]bool) *mockserver.CustomerToken {
	c.account(p+".partner_account_id", d.PartnerAccountID)
	if d.CustomerToken == nil {
		c.add(p+".customer_token", "is required")
		return &mockserver.CustomerToken{}
	}
	ct := *d.CustomerToken
	c.id(p+".customer_token", ct.Token, mockserver.PrefixCustomerToken, seen)
	c.require(len(ct.Scopes) > 0, p+".scopes", "must name at least one scope")
	c.scopes(p+".scopes", ct.Scopes)
	c.set(p+".created_at", d.CreatedAt)
	c.oneOf(p+".status", d.Status, mockserver.TokenActive, mockserver.TokenRevoked)
	if d.Status == mockserver.TokenRevoked {
		c.set(p+".revoked_at", d.RevokedAt)
	}
	ct.AccountID = mockserver.Scope(tenant, d.PartnerAccountID)
	ct.Scopes = append([]string(nil), ct.Scopes...)
	ct.Status, ct.CreatedAt, ct.Email, ct.RevokedAt = d.Status, d.CreatedAt, d.Email, d.RevokedAt
	return &ct
}

func (c *checker) session(p, tenant string, d sessionDoc, seen map[string]bool) *mockserver.NetworkSession {
	c.account(p+".partner_account_id", d.PartnerAccountID)
	c.id(p+".klarna_network_session_token", d.Token, mockserver.PrefixNetworkSession, seen)
	c.set(p+".expires_at", d.ExpiresAt)
	c.optionalID(p+".payment_request_id", d.PaymentRequestID, mockserver.PrefixPaymentRequest)
	c.scopes(p+".scopes", d.Scopes)
	c.optionalID(p+".spent_by", d.SpentBy, mockserver.PrefixPaymentTransaction)
	c.require((d.SpentBy == "") == d.SpentAt.IsZero(), p+".spent_at", "is there exactly when spent_by is")
	return &mockserver.NetworkSession{
		Token: d.Token, AccountID: mockserver.Scope(tenant, d.PartnerAccountID), PaymentRequestID: d.PaymentRequestID,
		Email: d.Email, Consent: d.Consent, Scopes: append([]string(nil), d.Scopes...), ExpiresAt: d.ExpiresAt, SpentBy: d.SpentBy, SpentAt: d.SpentAt,
	}
}

func (c *checker) idempotency(p, tenant string, d idempotencyDoc, seen map[string]bool) *mockserver.IdempotencyRecord {
	c.oneOf(p+".method", d.Method, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete)
	c.require(strings.HasPrefix(d.Path, "/") && !strings.ContainsAny(d.Path, " \x00"), p+".path", "must be a request path")
	c.require(d.Key != "" && !strings.ContainsRune(d.Key, 0), p+".key", "is required")
	c.require(d.Status >= 200 && d.Status < 300, p+".status", "must be a 2xx status: only successful answers are kept")
	c.set(p+".expires_at", d.ExpiresAt)
	r := &mockserver.IdempotencyRecord{
		Scope: tenant + " " + d.Method + " " + d.Path, Tenant: tenant, Key: d.Key, Status: d.Status,
		Header: d.Header, Body: d.Body, ExpiresAt: d.ExpiresAt.UnixNano(),
	}
	if digest, err := hex.DecodeString(d.BodySHA256); err != nil || len(digest) != len(r.BodyDigest) {
		c.add(p+".body_sha256", "must be a SHA-256 digest in hex")
	} else {
		copy(r.BodyDigest[:], digest)
	}
	if id := r.Scope + "\x00" + r.Key; seen[id] {
		c.add(p+".key", "appears twice in the document for %s %s", d.Method, d.Path)
	} else {
		seen[id] = true
	}
	return r
}

// webhookState checks the signing keys, webhooks and deliveries, which belong to the tenant
// itself rather than to one of its partner accounts.
func (c *checker) webhookState(tenant string, doc *stateDocument, st *importedState) {
	seen := map[string]bool{}
	// hooks are the webhooks deliveries may be for: the document's, and the static one.
	hooks := map[string]bool{webhook.StaticWebhookID: c.static}
	if len(doc.SigningKeys) > webhook.MaxSigningKeys {
		c.add("signing_keys", "holds %d keys; an account may hold at most %d", len(doc.SigningKeys), webhook.MaxSigningKeys)
	}
	for i, d := range doc.SigningKeys {
		p := fmt.Sprintf("signing_keys[%d]", i)
		if d.SigningKey == nil {
			c.add(p+".signing_key_id", "is required")
			continue
		}
		c.id(p+".signing_key_id", d.SigningKeyID, webhook.SigningKeyIDPrefix, seen)
		secret, err := hex.DecodeString(d.Secret)
		c.require(err == nil && len(secret) == 32 && d.Secret == strings.ToLower(d.Secret), p+".secret",
			"must be the key's secret as the mock makes them, 64 lowercase hex characters: the webhooks are signed with it")
		c.set(p+".created_at", d.CreatedAt)
		st.keys = append(st.keys, &webhook.SigningKey{AccountID: tenant, SigningKeyID: d.SigningKeyID, CreatedAt: d.CreatedAt, Secret: d.Secret})
	}
	for i, w := range doc.Webhooks {
		p := fmt.Sprintf("webhooks[%d]", i)
		if w == nil {
			c.add(p+".webhook_id", "is required")
			continue
		}
		c.id(p+".webhook_id", w.WebhookID, webhook.WebhookIDPrefix, seen)
		c.named(p+".", c.checkHook(w))
		c.set(p+".created_at", w.CreatedAt)
		hooks[w.WebhookID] = true
		c.require(seen[w.SigningKeyID] && strings.HasPrefix(w.SigningKeyID, webhook.SigningKeyIDPrefix), p+".signing_key_id", "must be one of the document's signing_keys")
		hook := *w
		hook.AccountID = tenant
		hook.EventTypes = append([]string(nil), w.EventTypes...)
		st.webhooks = append(st.webhooks, &hook)
	}
	for i, d := range doc.Deliveries {
		p := fmt.Sprintf("deliveries[%d]", i)
		if d.Delivery == nil {
			c.add(p+".delivery_id", "is required")
			continue
		}
		dl := *d.Delivery
		c.id(p+".delivery_id", dl.DeliveryID, webhook.DeliveryIDPrefix, seen)
		c.require(hooks[dl.WebhookID], p+".webhook_id", "must be one of the document's webhooks")
		c.oneOf(p+".state", dl.State, webhook.DeliveryPending, webhook.DeliveryDelivered, webhook.DeliveryFailed)
		c.require(len(dl.Attempts) <= webhook.MaxAttempts, p+".attempts", fmt.Sprintf("a delivery has at most %d attempts", webhook.MaxAttempts))
		c.require(dl.State == webhook.DeliveryPending || dl.NextAttemptAt == nil, p+".next_attempt_at", "must be null once the delivery is "+dl.State)
		// Decoded as the envelope, not only checked for JSON: the webhook tools read its metadata
		// again to resend it (webhook.Notifier.Send).
		var env webhook.Envelope
		c.require(bytes.HasPrefix(bytes.TrimSpace(d.Body), []byte("{")) && json.Unmarshal(d.Body, &env) == nil, p+".body", "must be the JSON envelope the attempts post")
		c.set(p+".created_at", dl.CreatedAt)
		if dl.State == webhook.DeliveryPending {
			c.require(dl.NextAttemptAt != nil, p+".next_attempt_at", "is required while the delivery is PENDING")
			c.require(len(dl.Attempts) < webhook.MaxAttempts, p+".attempts", fmt.Sprintf("a PENDING delivery has had fewer than %d attempts", webhook.MaxAttempts))
		}
		dl.AccountID = tenant
		dl.Attempts = append([]webhook.Attempt{}, dl.Attempts...)
		dl.Body = append([]byte(nil), d.Body...)
		st.deliveries = append(st.deliveries, &dl)
		if dl.State == webhook.DeliveryPending {
			st.pending = append(st.pending, &dl)
		}
	}
}

// checkQuotas refuses a document holding more objects of a kind than the tenant may hold, or
// more deliveries pending than the notifier queues for one tenant.
func (m *Mock) checkQuotas(st *importedState) error {
	c := st.counts
	for _, k := range []struct {
		what string
		n    int
	}{
		{"payment requests", c.PaymentRequests}, {"payment transactions", c.PaymentTransactions},
		{"customer tokens", c.CustomerTokens}, {"network session tokens", c.NetworkSessions},
		{"idempotency keys", c.IdempotencyRecords}, {"webhooks", c.Webhooks}, {"webhook deliveries", c.Deliveries},
	} {
		if k.n > m.maxObjects {
			return mockserver.NewError(mockserver.CodeQuotaExceeded, fmt.Sprintf(
				"The state document holds %d %s; a tenant may hold at most %d (--max-objects).", k.n, k.what, m.maxObjects))
		}
	}
	if n := len(st.pending); n > webhook.DefaultMaxPendingPerTenant {
		return mockserver.NewError(mockserver.CodeQuotaExceeded, fmt.Sprintf(
			"The state document holds %d pending deliveries; a tenant may have at most %d pending.", n, webhook.DefaultMaxPendingPerTenant))
	}
	return nil
}
