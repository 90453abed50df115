package acquirer

import (
	"context"
	"errors"
	"fmt"

	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
)

// Purchase is what sessions and charges ask of Klarna alike.
type Purchase struct {
	// IdempotencyKey is the Partner's Idempotency-Key; empty means every request is new.
	IdempotencyKey string
	Reference      string
	Currency       string
	// Amount is in minor units; 0 for a session that only creates a token.
	Amount  int64
	Capture string
	// Mode and ReturnURL say how to hand the customer over if Klarna steps up; empty for a
	// charge without the customer.
	Mode         Mode
	ReturnURL    string
	PurchaseData *klarna.SupplementaryPurchaseData
	Network      Network
}

// SessionRequest opens a payment session (docs/flows.md, diagram 1: token creation). It asks for
// a purchase (Amount), a customer token (Token), or both.
type SessionRequest struct {
	Purchase
	Token *TokenRequest
}

// ChargeRequest charges an AP customer token: with the customer present (docs/flows.md,
// diagram 2: may step up) or not (diagram 3, subscriptions: approve or decline only).
type ChargeRequest struct {
	Purchase
	CustomerToken   string
	CustomerPresent bool
}

// CreateSession opens a payment session and authorizes it with Klarna. replayed reports that
// the session was created earlier by a request with the same Idempotency-Key.
func (s *Service) CreateSession(ctx context.Context, partner Partner, req SessionRequest) (p *Payment, replayed bool, err error) {
	if err := checkSession(req); err != nil {
		return nil, false, err
	}
	p = newPayment(KindSession, partner, req.Purchase, true)
	p.TokenRequest = req.Token
	if t := req.Token; t != nil {
		p.Authorize.Request.RequestCustomerToken = &klarna.CustomerTokenRequest{Scopes: []string{t.Usage.Scope()}, CustomerTokenReference: t.Reference}
	}
	return s.start(ctx, p, req)
}

// CreateCharge charges an AP customer token. replayed reports that the charge was created
// earlier by a request with the same Idempotency-Key.
func (s *Service) CreateCharge(ctx context.Context, partner Partner, req ChargeRequest) (p *Payment, replayed bool, err error) {
	token, err := s.ownedToken(partner, req.CustomerToken, "customer_token")
	if err != nil {
		return nil, false, err
	}
	if err := checkCharge(req, token); err != nil {
		return nil, false, err
	}
	p = newPayment(KindCharge, partner, req.Purchase, req.CustomerPresent)
	p.ChargedToken = token.ID
	p.Authorize.CustomerToken = token.KlarnaToken
	return s.start(ctx, p, req)
}

// newPayment returns a new PROCESSING payment of a Partner's purchase, with the initial
// authorize it is to send Klarna.
func newPayment(kind Kind, partner Partner, pu Purchase, customerPresent bool) *Payment {
	prefix := PrefixSession
	if kind == KindCharge {
		prefix = PrefixCharge
	}
	p := &Payment{
		ID:              NewID(prefix, 12),
		Kind:            kind,
		PartnerID:       partner.ID,
		IdempotencyKey:  pu.IdempotencyKey,
		Status:          StatusProcessing,
		Reference:       pu.Reference,
		Currency:        pu.Currency,
		Amount:          pu.Amount,
		Capture:         pu.Capture,
		Mode:            pu.Mode,
		CustomerPresent: customerPresent,
	}
	ar := klarna.AuthorizeRequest{
		Currency:                  pu.Currency,
		RequestPaymentTransaction: p.transaction(),
		SupplementaryPurchaseData: pu.purchaseData(),
	}
	if customerPresent {
		// Only a present customer can be stepped up; without step_up_config Klarna approves or
		// declines.
		ar.StepUpConfig = stepUpConfig(p.ID, pu.Mode, pu.ReturnURL)
	}
	p.Authorize = klarna.AuthorizeParams{
		AccountID:           partner.KlarnaAccountID,
		NetworkSessionToken: pu.Network.SessionToken,
		NetworkData:         pu.Network.Data,
		Request:             ar,
	}
	return p
}

// stepUpConfig lets Klarna step up. The Payment Request's reference is the payment's own id,
// so a Klarna webhook finds its payment even when it overtakes the authorize answer.
func stepUpConfig(paymentID string, mode Mode, returnURL string) *klarna.StepUpConfig {
	return &klarna.StepUpConfig{
		PaymentRequestReference: paymentID,
		CustomerInteractionConfig: klarna.CustomerInteractionConfig{
			Method:    mode.method(),
			ReturnURL: returnURL,
		},
	}
}

// purchaseData returns the Partner's purchase data for Klarna, with the Partner's reference as
// purchase_reference unless it named one.
func (pu Purchase) purchaseData() *klarna.SupplementaryPurchaseData {
	if pu.PurchaseData == nil {
		return nil
	}
	c := *pu.PurchaseData
	if c.PurchaseReference == "" {
		c.PurchaseReference = pu.Reference
	}
	return &c
}

// start stores a new payment (or finds the one an earlier request with the same
// Idempotency-Key created) and, unless Klarna's answer is already known, authorizes it.
func (s *Service) start(ctx context.Context, p *Payment, req any) (*Payment, bool, error) {
	if p.IdempotencyKey != "" {
		var err error
		if p.RequestDigest, err = digest(req); err != nil {
			return nil, false, err
		}
	}
	p.CreatedAt = s.now()
	p.UpdatedAt = p.CreatedAt
	// The key is derived from the payment id, so every attempt to authorize this payment, by
	// this request or by a retry of it, is one operation for Klarna.
	p.Authorize.IdempotencyKey = "authorize-" + p.ID
	replayed := false
	err := s.store.Update(func(tx Tx) error {
		if p.IdempotencyKey != "" {
			prev, err := tx.PaymentByIdempotencyKey(p.PartnerID, p.IdempotencyKey)
			if err == nil {
				if prev.RequestDigest != p.RequestDigest || prev.Kind != p.Kind {
					return NewError(CodeIdempotencyConflict, "The Idempotency-Key was already used with a different request.",
						FieldError{Parameter: "Idempotency-Key", Message: "already used with a different request"})
				}
				p, replayed = prev, true
				return nil
			}
			if !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		return tx.PutPayment(p)
	})
	if err != nil {
		return nil, false, err
	}
	if p.Status != StatusProcessing {
		return p, replayed, nil
	}
	p, err = s.authorize(ctx, p)
	return p, replayed, err
}

// authorize makes the initial authorize of a PROCESSING payment and records Klarna's answer.
func (s *Service) authorize(ctx context.Context, p *Payment) (*Payment, error) {
	params := p.Authorize
	params.CorrelationID = RequestID(ctx)
	// Once sent, the call runs to its end (within the client's deadline) even if the Partner
	// hangs up: the AP's record must match what Klarna did.
	resp, err := s.klarna.Authorize(context.WithoutCancel(ctx), params)
	if err != nil {
		if permanent(err) {
			// Klarna refused the call, so nothing exists there: forget the payment, so that a
			// corrected request, even under the same Idempotency-Key, starts afresh.
			if derr := s.forget(p.ID); derr != nil {
				return nil, errors.Join(klarnaFailure(err), derr)
			}
		}
		// Otherwise the payment stays PROCESSING: a retry with the Idempotency-Key drives it
		// again under the same Klarna idempotency key, and a webhook can still complete it.
		return nil, klarnaFailure(err)
	}
	result, reason := resp.Result()
	s.log.Info("initial authorize", "payment_id", p.ID, "kind", p.Kind, "partner_id", p.PartnerID, "result", result, "reason", reason)
	next, _, err := s.apply(p.ID, "", func(cur *Payment) (*Payment, *klarna.CustomerToken) {
		if cur.Status != StatusProcessing {
			// A webhook overtook the answer and already moved the payment on.
			return nil, nil
		}
		return cur.withInitialResult(resp, s.now())
	})
	return next, err
}

// forget deletes a payment Klarna never took on, unless something moved it on meanwhile.
func (s *Service) forget(id string) error {
	return s.store.Update(func(tx Tx) error {
		cur, err := tx.Payment(id)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil || cur.Status != StatusProcessing {
			return err
		}
		return tx.DeletePayment(id)
	})
}

// problems collects what is wrong with a request, field by field.
type problems []FieldError

func (ps *problems) add(parameter, message string) {
	*ps = append(*ps, FieldError{Parameter: parameter, Message: message})
}

// err returns the problems as one INVALID_REQUEST, or nil when there are none.
func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return Invalid(ps...)
}

// checkSession checks what the contract cannot express about a session request, so the
// Service is safe to call without the HTTP layer too.
func checkSession(req SessionRequest) error {
	ps := req.check()
	switch {
	case req.Amount < 0:
		ps.add("amount", "must be positive")
	case req.Amount == 0 && req.Token == nil:
		ps.add("amount", "give amount for a purchase, request_customer_token for a token, or both")
	case req.Amount == 0 && req.Capture != "":
		ps.add("capture", "a session without amount has nothing to capture")
	}
	if req.Mode != ModeRedirect && req.Mode != ModeSDK {
		ps.add("mode", "must be REDIRECT or SDK")
	}
	if t := req.Token; t != nil {
		switch t.Usage {
		case UsageOnDemand:
		case UsageSubscription:
			if !req.hasSubscriptions() {
				ps.add("supplementary_purchase_data.subscriptions", "required for a SUBSCRIPTION token: Klarna needs the subscription the token is for")
			}
		default:
			ps.add("request_customer_token.usage", "must be ON_DEMAND or SUBSCRIPTION")
		}
	}
	return ps.err()
}

// checkCharge checks a charge request against the charged token.
func checkCharge(req ChargeRequest, token *Token) error {
	ps := req.check()
	if req.Amount <= 0 {
		ps.add("amount", "must be positive")
	}
	if req.CustomerPresent {
		if req.Mode != ModeRedirect && req.Mode != ModeSDK {
			ps.add("mode", "required when the customer is present: REDIRECT or SDK, in case Klarna steps up")
		}
		if !token.HasScope(klarna.ScopeCustomerPresent) {
			ps.add("customer_token", fmt.Sprintf("a %s token cannot be charged with the customer present; create an ON_DEMAND token", token.Usage))
		}
	} else {
		if req.Mode != "" {
			ps.add("mode", "a charge without the customer cannot step up; leave mode out")
		}
		if req.ReturnURL != "" {
			ps.add("return_url", "a charge without the customer cannot step up; leave return_url out")
		}
		if !token.HasScope(klarna.ScopeCustomerNotPresent) {
			ps.add("customer_token", fmt.Sprintf("a %s token cannot be charged without the customer; create a SUBSCRIPTION token", token.Usage))
		}
		if !req.hasSubscriptions() {
			ps.add("supplementary_purchase_data.subscriptions", "required without the customer: Klarna needs the subscription on every recurring charge")
		}
	}
	return ps.err()
}

// check checks the fields sessions and charges share.
func (pu Purchase) check() problems {
	var ps problems
	if pu.Reference == "" {
		ps.add("reference", "required")
	}
	if len(pu.Currency) != 3 {
		ps.add("currency", "must be an ISO 4217 code such as EUR")
	}
	if pu.Capture != "" && pu.Capture != klarna.CaptureNow && pu.Capture != klarna.CaptureLater {
		ps.add("capture", "must be NOW or LATER")
	}
	if pu.Mode == ModeRedirect && pu.ReturnURL == "" {
		ps.add("return_url", "required with mode REDIRECT: Klarna sends the customer back there")
	}
	return ps
}

func (pu Purchase) hasSubscriptions() bool {
	return pu.PurchaseData != nil && len(pu.PurchaseData.Subscriptions) > 0
}
