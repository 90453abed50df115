package mockserver

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

// Header names the authorize call reads; errors name them as the offending parameter.
const (
	HeaderNetworkSessionToken   = "Klarna-Network-Session-Token"
	HeaderPaymentToken          = "Klarna-Payment-Token"
	HeaderInteroperabilityToken = "Klarna-Interoperability-Token"
	HeaderCustomerToken         = "Klarna-Customer-Token"
)

// AuthorizeCall is one call of the Payment Authorize API.
type AuthorizeCall struct {
	// AccountID is the scope of the call (see Scope): every object it creates is stored under it.
	AccountID string
	Request   *AuthorizeRequest
	// SessionToken is the network session token sent, and SessionHeader the header that carried
	// it: Klarna-Network-Session-Token, or its legacy equivalents Klarna-Payment-Token and
	// Klarna-Interoperability-Token.
	SessionToken  string
	SessionHeader string
	CustomerToken string
	// JourneyBaseURL is where the customer reaches the mock's Purchase Journey, e.g.
	// http://127.0.0.1:8480; payment_request_url is built on it.
	JourneyBaseURL string
}

// Authorize carries out an initial or final authorize and returns Klarna's answer. Bad input is
// a *Error; a decline is not an error but a DECLINED result.
func (s *Service) Authorize(call AuthorizeCall) (*AuthorizeResponse, error) {
	now := s.ClockOf(call.AccountID).Now()
	var session *NetworkSession
	if call.SessionToken != "" {
		var err error
		session, err = view(s, func(tx Tx) (*NetworkSession, error) {
			return networkSession(tx, call.AccountID, call.SessionToken, call.SessionHeader)
		})
		if err != nil {
			return nil, err
		}
		if session.PaymentRequestID != "" {
			return s.finalize(call, session, now)
		}
		if err := checkTestToken(call.SessionHeader, session, now); err != nil {
			return nil, err
		}
	}
	token, err := s.chargedToken(call.AccountID, call.CustomerToken)
	if err != nil {
		return nil, err
	}
	req := call.Request
	kind, err := classify(req, token)
	if err != nil {
		return nil, err
	}
	expiresAt, err := requestExpiry(req.StepUpConfig, now)
	if err != nil {
		return nil, err
	}
	if err := checkLineItems(req); err != nil {
		return nil, err
	}
	var room factRoom
	facts := buildFacts(&room, kind, req, session, token)
	d := s.decide(call.AccountID, &facts)
	result, reason := string(d.Result), d.ResultReason
	if result == ResultStepUpRequired && req.StepUpConfig == nil {
		result, reason = ResultDeclined, ReasonCustomerNotPresent
	}
	var resp *AuthorizeResponse
	switch result {
	case ResultApproved:
		resp, err = s.approve(call, token, session, now)
	case ResultStepUpRequired:
		resp, err = s.stepUp(call, token, d, expiresAt, now)
	default:
		resp = declined(req, reason)
	}
	if resp != nil {
		resp.Rule = d.Rule
	}
	return resp, err
}

// chargedToken returns the customer token a call charges, nil when it sends none; one unknown to
// the account or revoked is a 400 naming Klarna-Customer-Token.
func (s *Service) chargedToken(accountID, token string) (*CustomerToken, error) {
	if token == "" {
		return nil, nil
	}
	var ct *CustomerToken
	err := s.readOne(func(tx Tx) (err error) {
		ct, err = tx.CustomerToken(accountID, token)
		return err
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, Invalid(HeaderCustomerToken, "the customer token is unknown to this account")
	case err != nil:
		return nil, err
	case ct.Status != TokenActive:
		return nil, Invalid(HeaderCustomerToken, "the customer token was revoked")
	}
	return ct, nil
}

// classify tells which call of the integration flows (docs/flows.md) this is, and rejects
// combinations no flow allows.
func classify(req *AuthorizeRequest, token *CustomerToken) (rules.Kind, error) {
	if req.RequestPaymentTransaction == nil && req.RequestCustomerToken == nil {
		return "", Invalid("request_payment_transaction", "a call must request a payment transaction, a customer token, or both")
	}
	if token == nil {
		if req.RequestCustomerToken != nil {
			return rules.KindTokenCreation, nil
		}
		return rules.KindOneTime, nil
	}
	if req.RequestCustomerToken != nil {
		return "", Invalid("request_customer_token", "a customer token charge cannot request another customer token")
	}
	if req.RequestPaymentTransaction == nil {
		return "", Invalid("request_payment_transaction", "a customer token charge needs request_payment_transaction")
	}
	if req.StepUpConfig != nil {
		if !token.HasScope(ScopeCustomerPresent) {
			return "", Invalid(HeaderCustomerToken, "a charge with step_up_config (customer present) needs a token with scope "+ScopeCustomerPresent)
		}
		return rules.KindCustomerPresent, nil
	}
	if !token.HasScope(ScopeCustomerNotPresent) {
		return "", Invalid(HeaderCustomerToken, "a charge without step_up_config (customer not present) needs a token with scope "+ScopeCustomerNotPresent)
	}
	return rules.KindCustomerNotPresent, nil
}

// requestExpiry returns when a Payment Request created by this call would expire:
// interaction_expiry if given (15 minutes to 48 hours from now), else the 3-hour default.
func requestExpiry(cfg *StepUpConfig, now time.Time) (time.Time, error) {
	if cfg == nil || cfg.CustomerInteractionConfig.InteractionExpiry == nil {
		return now.Add(DefaultRequestExpiry), nil
	}
	ie := cfg.CustomerInteractionConfig.InteractionExpiry
	const base = "step_up_config.customer_interaction_config.interaction_expiry"
	var at time.Time
	param := base + ".duration"
	switch {
	case ie.Duration != "" && ie.Timestamp != nil:
		return time.Time{}, Invalid(base, "give either duration or timestamp, not both")
	case ie.Duration != "":
		d, err := ParseISODuration(ie.Duration)
		if errors.Is(err, errDurationTooLong) {
			return time.Time{}, badExpiry(param, ie.Duration)
		}
		if err != nil {
			return time.Time{}, Invalid(param, err.Error())
		}
		at = now.Add(d)
	case ie.Timestamp != nil:
		param = base + ".timestamp"
		at = ie.Timestamp.UTC()
	default:
		return time.Time{}, Invalid(base, "give duration or timestamp")
	}
	if d := at.Sub(now); d < MinRequestExpiry || d > MaxRequestExpiry {
		return time.Time{}, badExpiry(param, d.Round(time.Second).String())
	}
	return at, nil
}

// badExpiry refuses an interaction expiry outside the range Klarna allows (docs/klarna.md §6);
// given is what the call asked for.
func badExpiry(param, given string) error {
	return Invalid(param, fmt.Sprintf("the interaction expiry must be between 15 minutes and 48 hours from now, not %s", given))
}

// checkLineItems enforces that line items add up to the amount, which Klarna asks for and a
// mock should catch before a real integration trips on it.
func checkLineItems(req *AuthorizeRequest) error {
	spd := req.SupplementaryPurchaseData
	if spd == nil || len(spd.LineItems) == 0 || req.RequestPaymentTransaction == nil {
		return nil
	}
	var sum int64
	for _, li := range spd.LineItems {
		sum += li.TotalAmount
	}
	if sum != req.RequestPaymentTransaction.Amount {
		return Invalid("supplementary_purchase_data.line_items",
			fmt.Sprintf("the line items' total_amount add up to %d, not to request_payment_transaction.amount %d", sum, req.RequestPaymentTransaction.Amount))
	}
	return nil
}

// factRoom is room for the lists of a typical call's facts: buildFacts appends to its arrays,
// on the caller's stack, and allocates only for longer lists. The facts are gathered on every
// authorize, and the rules do not keep them.
type factRoom struct {
	references, emails, lineItemNames, lineItemReferences [4]string
}

// buildFacts gathers what the outcome rules look at; the lists it makes are in room while they
// fit.
func buildFacts(room *factRoom, kind rules.Kind, req *AuthorizeRequest, session *NetworkSession, token *CustomerToken) rules.Facts {
	f := rules.Facts{Kind: kind, Currency: req.Currency,
		References: room.references[:0], Emails: room.emails[:0],
		LineItemNames: room.lineItemNames[:0], LineItemReferences: room.lineItemReferences[:0]}
	if rpt := req.RequestPaymentTransaction; rpt != nil {
		f.Amount, f.HasAmount = rpt.Amount, true
		f.References = appendNonEmpty(f.References, rpt.PaymentTransactionReference)
	}
	if req.StepUpConfig != nil {
		f.References = appendNonEmpty(f.References, req.StepUpConfig.PaymentRequestReference)
	}
	if rct := req.RequestCustomerToken; rct != nil {
		f.References = appendNonEmpty(f.References, rct.CustomerTokenReference)
		f.Scopes = rct.Scopes
	}
	if token != nil {
		f.Scopes = token.Scopes
		f.Emails = appendNonEmpty(f.Emails, token.Email)
	}
	if session != nil {
		f.IdentifiedCustomer = session.Consent
		f.Emails = appendNonEmpty(f.Emails, session.Email)
	}
	if spd := req.SupplementaryPurchaseData; spd != nil {
		f.References = appendNonEmpty(f.References, spd.PurchaseReference)
		if spd.Customer != nil {
			f.Emails = appendNonEmpty(f.Emails, spd.Customer.Email)
		}
		for _, sh := range spd.Shipping {
			if sh.Recipient != nil {
				f.Emails = appendNonEmpty(f.Emails, sh.Recipient.Email)
			}
		}
		for _, li := range spd.LineItems {
			f.LineItemNames = append(f.LineItemNames, li.Name)
			f.LineItemReferences = appendNonEmpty(f.LineItemReferences, li.LineItemReference)
		}
		f.HasSubscriptions = len(spd.Subscriptions) > 0
		f.HasOndemandService = spd.OndemandService != nil
	}
	return f
}

func appendNonEmpty(list []string, s string) []string {
	if s == "" {
		return list
	}
	return append(list, s)
}

// declined answers a DECLINED result in each part of the response the call asked for.
func declined(req *AuthorizeRequest, reason string) *AuthorizeResponse {
	resp := &AuthorizeResponse{}
	if req.RequestPaymentTransaction != nil {
		resp.PaymentTransactionResponse = &PaymentTransactionResponse{Result: ResultDeclined, ResultReason: reason}
	}
	if req.RequestCustomerToken != nil {
		resp.CustomerTokenResponse = &CustomerTokenResponse{Result: ResultDeclined, ResultReason: reason}
	}
	return resp
}

// approve creates what an APPROVED initial authorize yields: the transaction and, when asked
// for, the customer token.
func (s *Service) approve(call AuthorizeCall, charged *CustomerToken, session *NetworkSession, now time.Time) (*AuthorizeResponse, error) {
	req := call.Request
	a := &approval{}
	resp := &a.resp
	err := s.store.Update(func(tx Tx) error {
		a.events = nil // a store may run this again
		if rpt := req.RequestPaymentTransaction; rpt != nil {
			tr := newTransaction(call.AccountID, req.Currency, rpt, req.SupplementaryPurchaseData, now)
			if charged != nil {
				tr.CustomerToken = charged.Token
			}
			// A session here is a test token: a completed Payment Request's goes to finalize.
			if session != nil {
				if err := spendTestToken(tx, call.SessionHeader, session, tr, now); err != nil {
					return err
				}
			}
			if err := tx.PutPaymentTransaction(tr); err != nil {
				return err
			}
			a.transaction = PaymentTransactionResponse{Result: ResultApproved, PaymentTransaction: tr}
			resp.PaymentTransactionResponse = &a.transaction
			a.events = appendTransactionEvents(a.room[:0], tr, now)
		}
		if rct := req.RequestCustomerToken; rct != nil {
			ct := newCustomerToken(call.AccountID, rct, customerEmail(req, session), now)
			if err := tx.PutCustomerToken(ct); err != nil {
				return err
			}
			resp.CustomerTokenResponse = &CustomerTokenResponse{Result: ResultApproved, CustomerToken: ct}
		}
		return s.emit(tx, a.events...)
	})
	if err != nil {
		return nil, err
	}
	s.publish(a.events...)
	s.startTransaction(resp)
	return resp, nil
}

// approval is what approve makes besides the objects it stores, in one allocation rather than
// four, as it is made on every approved authorize: the answer, its transaction part, and the
// events of the change, in room while there is one (a capture: NOW transaction has two).
type approval struct {
	resp        AuthorizeResponse
	transaction PaymentTransactionResponse
	events      []Event
	room        [1]Event
}

// stepUp creates the Payment Request a STEP_UP_REQUIRED answer hands over, and sets the
// simulated customer to act when a rule says so.
func (s *Service) stepUp(call AuthorizeCall, charged *CustomerToken, d rules.Decision, expiresAt, now time.Time) (*AuthorizeResponse, error) {
	req := call.Request
	id := NewID(PrefixPaymentRequest)
	cic := req.StepUpConfig.CustomerInteractionConfig
	ci := &CustomerInteraction{Method: cic.Method, PaymentRequestID: id, ReturnURL: cic.ReturnURL}
	if cic.Method == MethodHandover {
		ci.PaymentRequestURL = JourneyURL(call.JourneyBaseURL, id)
	}
	pr := &PaymentRequest{
		AccountID:               call.AccountID,
		PaymentRequestID:        id,
		PaymentRequestReference: req.StepUpConfig.PaymentRequestReference,
		Currency:                req.Currency,
		State:                   StateSubmitted,
		StateContext:            &StateContext{CustomerInteraction: ci},
		CreatedAt:               now,
		UpdatedAt:               now,
		ExpiresAt:               expiresAt,
	}
	pr.SetInitialRequest(req)
	if rpt := req.RequestPaymentTransaction; rpt != nil {
		pr.Amount = rpt.Amount
	}
	if charged != nil {
		pr.ChargedToken = charged.Token
	}
	submitted := requestEvent(EventRequestSubmitted, pr, now)
	err := s.store.Update(func(tx Tx) error {
		if err := tx.PutPaymentRequest(pr); err != nil {
			return err
		}
		return s.emit(tx, submitted)
	})
	if err != nil {
		return nil, err
	}
	s.publish(submitted)
	s.scheduleRequest(call.AccountID, id, expiresAt, d)
	resp := &AuthorizeResponse{PaymentRequest: pr}
	if req.RequestPaymentTransaction != nil {
		resp.PaymentTransactionResponse = &PaymentTransactionResponse{Result: ResultStepUpRequired, ResultReason: d.ResultReason}
	}
	if req.RequestCustomerToken != nil {
		resp.CustomerTokenResponse = &CustomerTokenResponse{Result: ResultStepUpRequired, ResultReason: d.ResultReason}
	}
	return resp, nil
}

// scheduleRequest sets a new Payment Request's expiry and, when the rule scripts the customer,
// the simulated customer's action, on its tenant's clock. The timers capture ids only, never the
// stored request, and are kept so that the request's end stops them (see requestTimers).
func (s *Service) scheduleRequest(accountID, id string, expiresAt time.Time, d rules.Decision) {
	c := s.ClockOf(accountID)
	tenant, _ := SplitScope(accountID)
	action, delay := d.Customer, d.CustomerDelay
	s.timers.schedule(tenant, id, func() requestTimer {
		t := requestTimer{expiry: c.At(expiresAt, func() { s.expire(accountID, id) })}
		if action != rules.CustomerWait {
			t.customer = c.AfterFunc(delay, func() { s.simulateCustomer(accountID, id, action) })
		}
		return t
	})
}

// finalize carries out the final authorize of a COMPLETED Payment Request. Once it succeeded,
// the network session token is spent (docs/klarna.md §6): a repeat sent with the same
// Klarna-Idempotency-Key gets the first answer again from the idempotency layer, before this
// runs, and any other use of the token is refused by checkFinal. A token-only request has no
// transaction to create; its final authorize, which Klarna does not ask for and documents no
// answer to, is the mock's extension: it answers the token the request issued and spends the
// session token the same way (docs/api.md, "Decisions where Klarna is silent").
func (s *Service) finalize(call AuthorizeCall, session *NetworkSession, now time.Time) (*AuthorizeResponse, error) {
	req := call.Request
	var resp *AuthorizeResponse
	var events []Event
	err := s.store.Update(func(tx Tx) error {
		pr, err := tx.PaymentRequest(call.AccountID, session.PaymentRequestID)
		if errors.Is(err, ErrNotFound) {
			return Invalid(call.SessionHeader, "the payment request of this network session token no longer exists")
		}
		if err != nil {
			return err
		}
		if err := checkFinal(call, pr, session, now); err != nil {
			return err
		}
		var token *CustomerToken
		if pr.ChargedToken != "" {
			if token, err = tx.CustomerToken(pr.AccountID, pr.ChargedToken); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		var room factRoom
		facts := buildFacts(&room, rules.KindFinal, req, session, token)
		d := s.decide(call.AccountID, &facts)
		initial := pr.InitialRequest()
		if d.Result != rules.ResultApproved {
			resp = declined(initial, d.ResultReason)
			resp.Rule = d.Rule
			return nil
		}
		next := pr.Clone()
		next.UpdatedAt = now
		next.FinalizedAt = &now
		var tr *PaymentTransaction
		if rpt := initial.RequestPaymentTransaction; rpt != nil {
			final := *rpt
			if req.RequestPaymentTransaction != nil && req.RequestPaymentTransaction.PaymentTransactionReference != "" {
				final.PaymentTransactionReference = req.RequestPaymentTransaction.PaymentTransactionReference
			}
			if req.RequestPaymentTransaction != nil && req.RequestPaymentTransaction.Capture != "" {
				final.Capture = req.RequestPaymentTransaction.Capture
			}
			tr = newTransaction(pr.AccountID, pr.Currency, &final, cmp.Or(req.SupplementaryPurchaseData, initial.SupplementaryPurchaseData), now)
			tr.NetworkSessionToken = session.Token
			tr.CustomerToken = pr.ChargedToken
			if pr.IssuedToken != nil {
				tr.CustomerToken = pr.IssuedToken.Token
			}
			if err := tx.PutPaymentTransaction(tr); err != nil {
				return err
			}
			next.TransactionID = tr.PaymentTransactionID
			events = appendTransactionEvents(nil, tr, now)
		}
		if err := tx.PutPaymentRequest(next); err != nil {
			return err
		}
		resp = finalResponse(tr, next.IssuedToken)
		resp.Rule = d.Rule
		return s.emit(tx, events...)
	})
	if err != nil {
		return nil, err
	}
	s.publish(events...)
	s.startTransaction(resp)
	return resp, nil
}

// checkFinal rejects a final authorize whose token or body does not fit its Payment Request.
func checkFinal(call AuthorizeCall, pr *PaymentRequest, session *NetworkSession, now time.Time) error {
	req := call.Request
	if pr.Finalized() {
		return spentToken(call.SessionHeader, pr)
	}
	if pr.State != StateCompleted {
		return Invalid(call.SessionHeader, fmt.Sprintf("the payment request %s is %s; only a COMPLETED payment request can be finalized", pr.PaymentRequestID, pr.State))
	}
	if !now.Before(session.ExpiresAt) {
		return Invalid(call.SessionHeader, "the network session token's 60-minute window ended at "+session.ExpiresAt.Format(time.RFC3339))
	}
	if req.Currency != pr.Currency {
		return Invalid("currency", fmt.Sprintf("the payment request is in %s, not %s", pr.Currency, req.Currency))
	}
	rpt, want := req.RequestPaymentTransaction, pr.InitialRequest().RequestPaymentTransaction
	switch {
	case want == nil && rpt != nil:
		return Invalid("request_payment_transaction", "the payment request was for a customer token only; send no request_payment_transaction")
	case want != nil && rpt == nil:
		return Invalid("request_payment_transaction", fmt.Sprintf("the payment request is for %d %s; send request_payment_transaction with that amount", want.Amount, pr.Currency))
	case want != nil && rpt.Amount != want.Amount:
		return Invalid("request_payment_transaction.amount", fmt.Sprintf("the payment request is for %d, not %d", want.Amount, rpt.Amount))
	}
	if req.StepUpConfig != nil {
		return Invalid("step_up_config", "a final authorize takes no step_up_config")
	}
	if req.RequestCustomerToken != nil {
		return Invalid("request_customer_token", "a final authorize takes no request_customer_token; the token requested initially is returned")
	}
	return nil
}

// spentToken refuses a second final authorize with the network session token of pr, which the
// first one spent. The message says what the first created and how to get its answer again.
func spentToken(header string, pr *PaymentRequest) error {
	what := "payment transaction " + pr.TransactionID
	if pr.TransactionID == "" {
		what = "no transaction (the payment request was for a customer token only)"
	}
	return Invalid(header, fmt.Sprintf(
		"the network session token was spent by the final authorize of payment request %s at %s, which created %s; only a repeat with that call's Klarna-Idempotency-Key gets its answer again",
		pr.PaymentRequestID, pr.FinalizedAt.Format(time.RFC3339), what))
}

// finalResponse is the answer to a successful final authorize: the transaction created (nil
// for a token-only request) and the customer token the request issued, if any.
func finalResponse(tr *PaymentTransaction, ct *CustomerToken) *AuthorizeResponse {
	resp := &AuthorizeResponse{}
	if tr != nil {
		resp.PaymentTransactionResponse = &PaymentTransactionResponse{Result: ResultApproved, PaymentTransaction: tr}
	}
	if ct != nil {
		resp.CustomerTokenResponse = &CustomerTokenResponse{Result: ResultApproved, CustomerToken: ct}
	}
	return resp
}
