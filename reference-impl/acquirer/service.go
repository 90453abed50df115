// Package acquirer is the domain of the reference Acquiring Partner (AP): Partners, payment
// sessions, token charges and the customer tokens the AP issues, and the Service that carries
// out the three sequence diagrams of Klarna's server-side tokenized integration (docs/flows.md):
//
//   - token creation (diagram 1): a session asks Klarna for a customer token (with or without a
//     purchase); Klarna approves, declines or steps up, and after a step-up the Klarna webhook
//     (or, when it is late, a read of the Payment Request) drives the final authorize of a
//     purchase, or hands over the token of a session without one, and the Partner is told by
//     webhook, with both tokens;
//   - customer-present charge (diagram 2): the AP token is charged with a step_up_config, so
//     Klarna may step up exactly as above;
//   - customer-not-present (subscription) charge (diagram 3): no step_up_config, so only
//     approve or decline.
//
// After authorization the Partner captures, refunds and releases a payment's transaction
// (transactions.go).
//
// The edges live in the packages beside it in reference-impl/: klarna (the Klarna client), memdb
// (the Store), http (the Partner API and the Klarna webhook listener) and partnerhook (the
// Partner webhooks).
package acquirer

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
)

// Id prefixes of what the AP issues.
const (
	PrefixSession = "ses_"
	PrefixCharge  = "chg_"
	PrefixToken   = "aptok_"
	PrefixEvent   = "evt_"
)

// Klarna is the part of Klarna's API the Service uses; *klarna.Client implements it.
type Klarna interface {
	Authorize(ctx context.Context, p klarna.AuthorizeParams) (*klarna.AuthorizeResponse, error)
	Presentation(ctx context.Context, p klarna.PresentationParams) (*klarna.Presentation, error)
	PaymentRequest(ctx context.Context, accountID, paymentRequestID string) (*klarna.PaymentRequest, error)
	Capture(ctx context.Context, p klarna.CaptureParams) (*klarna.PaymentCapture, error)
	Refund(ctx context.Context, p klarna.RefundParams) (*klarna.PaymentRefund, error)
	ReleaseRemaining(ctx context.Context, p klarna.TransactionParams) (*klarna.PaymentTransaction, error)
}

// Config holds what a Service depends on.
type Config struct {
	Klarna   Klarna
	Store    Store
	Partners *Partners
	// Notifier delivers the Partner webhooks; nil drops them.
	Notifier Notifier
	// Logger receives what the AP does; nil discards.
	Logger *slog.Logger
	// Now is the clock the Service tells the time by: the time it records and the network
	// session token's window it checks before a final authorize. It must agree with Klarna's
	// clock (a klarna-mock's clock can be moved, see reference-impl/mockclock); nil means
	// time.Now.
	Now func() time.Time
}

// Service carries out the AP's operations. It is safe for concurrent use.
type Service struct {
	klarna   Klarna
	store    Store
	partners *Partners
	notifier Notifier
	log      *slog.Logger
	now      func() time.Time
}

// NewService returns a Service with cfg's dependencies.
func NewService(cfg Config) (*Service, error) {
	if cfg.Klarna == nil || cfg.Store == nil || cfg.Partners == nil {
		return nil, errors.New("acquirer: Klarna, Store and Partners are required")
	}
	s := &Service{
		klarna:   cfg.Klarna,
		store:    cfg.Store,
		partners: cfg.Partners,
		notifier: cmp.Or[Notifier](cfg.Notifier, discardNotifier{}),
		log:      cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)),
		now:      cfg.Now,
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// discardNotifier drops the Partner webhooks of a Service configured without a Notifier.
type discardNotifier struct{}

// Notify drops e.
func (discardNotifier) Notify(Partner, PartnerEvent) {}

// requestIDKey is the context key of the request id.
type requestIDKey struct{}

// WithRequestID returns ctx carrying the id of the Partner request (or webhook) being served.
// The Service sends it to Klarna as Partner-Correlation-Id, so one id traces a call end to end.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewID returns a random id with a prefix, e.g. "ses_5f0c2a9d41b7e3c8a6d2f1e0".
func NewID(prefix string, bytes int) string {
	b := make([]byte, bytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails.
	return prefix + hex.EncodeToString(b)
}

// digest fingerprints a request, to tell a retry with an Idempotency-Key from a reuse of the
// key for another request.
func digest(req any) (string, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("fingerprinting request: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// payment returns the Partner's payment of a kind; others' payments do not exist for it.
func (s *Service) payment(partner Partner, kind Kind, id string) (*Payment, error) {
	p, err := s.stored(id)
	if errors.Is(err, ErrNotFound) || err == nil && (p.PartnerID != partner.ID || p.Kind != kind) {
		what := "Session"
		if kind == KindCharge {
			what = "Charge"
		}
		return nil, NotFound(what, id)
	}
	return p, err
}

// stored returns the stored payment id.
func (s *Service) stored(id string) (*Payment, error) {
	var p *Payment
	err := s.store.View(func(tx Tx) error {
		var err error
		p, err = tx.Payment(id)
		return err
	})
	return p, err
}

// Session returns one of the Partner's sessions, concluded first if its Payment Request ended
// at Klarna before the webhook saying so arrived (see refresh).
func (s *Service) Session(ctx context.Context, partner Partner, id string) (*Payment, error) {
	p, err := s.payment(partner, KindSession, id)
	if err != nil {
		return nil, err
	}
	return s.refresh(ctx, p), nil
}

// Charge returns one of the Partner's charges, concluded first as a session is.
func (s *Service) Charge(ctx context.Context, partner Partner, id string) (*Payment, error) {
	p, err := s.payment(partner, KindCharge, id)
	if err != nil {
		return nil, err
	}
	return s.refresh(ctx, p), nil
}

// ownedToken returns the Partner's AP token id: 404 if there is no such token, 403 if it is
// another Partner's. The parameter names the request field for the error.
func (s *Service) ownedToken(partner Partner, id, parameter string) (*Token, error) {
	var t *Token
	err := s.store.View(func(tx Tx) error {
		var err error
		t, err = tx.Token(id)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		e := NotFound("Customer token", id)
		e.Fields = []FieldError{{Parameter: parameter, Message: "unknown customer token"}}
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	if t.PartnerID != partner.ID {
		return nil, NewError(CodeForbidden, fmt.Sprintf("The customer token %s belongs to another Partner.", id),
			FieldError{Parameter: parameter, Message: "belongs to another Partner"})
	}
	return t, nil
}

// change decides a payment's next state from its current stored one. It returns nil for no
// change, and the Klarna customer token the change issued, if any.
type change func(cur *Payment) (next *Payment, issued *klarna.CustomerToken)

// apply carries out a change of payment id in one write transaction, recording eventID (a Klarna
// event, "" for none) as processed in the same transaction. Deciding on the stored version inside
// the transaction is what makes racing updates (the authorize answer and a webhook, or two
// deliveries of one webhook) take effect exactly once. It announces the change to the Partner and
// reports whether there was one.
func (s *Service) apply(id, eventID string, ch change) (*Payment, bool, error) {
	var next *Payment
	var newToken *Token
	changed := false
	err := s.store.Update(func(tx Tx) error {
		cur, err := tx.Payment(id)
		if err != nil {
			return err
		}
		if eventID != "" {
			if err := tx.PutKlarnaEvent(eventID, s.now()); err != nil {
				return err
			}
		}
		var issued *klarna.CustomerToken
		if next, issued = ch(cur); next == nil {
			next = cur
			return nil
		}
		if issued != nil {
			if next.Token, newToken, err = s.issueToken(tx, next, issued); err != nil {
				return err
			}
		}
		changed = true
		return tx.PutPayment(next)
	})
	if err != nil {
		return nil, false, err
	}
	if changed {
		s.announce(next, newToken)
	}
	return next, changed, nil
}

// issueToken returns the AP token for a Klarna customer token a session obtained, issuing one
// unless the Partner already holds one for it. created is the token if it is new.
func (s *Service) issueToken(tx Tx, p *Payment, kt *klarna.CustomerToken) (token, created *Token, err error) {
	existing, err := tx.TokenByKlarnaToken(p.PartnerID, kt.CustomerToken)
	if err == nil {
		return existing, nil, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, nil, err
	}
	t := &Token{
		ID:          NewID(PrefixToken, 16),
		PartnerID:   p.PartnerID,
		KlarnaToken: kt.CustomerToken,
		// The usage follows the scopes Klarna actually granted, not the ones asked for.
		Usage:     usageOf(kt.Scopes),
		Scopes:    append([]string(nil), kt.Scopes...),
		SessionID: p.ID,
		CreatedAt: s.now(),
	}
	if p.TokenRequest != nil {
		t.Reference = p.TokenRequest.Reference
	}
	if err := tx.PutToken(t); err != nil {
		return nil, nil, err
	}
	s.log.Info("customer token issued", "partner_id", p.PartnerID, "customer_token", t.ID, "session_id", p.ID, "usage", t.Usage)
	return t, t, nil
}

// announce tells the Partner what a change brought: a new token, a completed payment, or one that
// ended without completing.
func (s *Service) announce(p *Payment, newToken *Token) {
	partner, ok := s.partners.Partner(p.PartnerID)
	if !ok {
		s.log.Warn("payment of an unknown partner; not notified", "partner_id", p.PartnerID, "payment_id", p.ID)
		return
	}
	send := func(t EventType, data any) {
		s.notifier.Notify(partner, PartnerEvent{
			EventID: NewID(PrefixEvent, 12), EventType: t, CreatedAt: s.now(), PartnerID: partner.ID, Data: data,
		})
	}
	if newToken != nil {
		send(EventTokenCreated, newToken.Resource())
	}
	switch {
	case p.Status == StatusCompleted:
		send(EventOrderCompleted, p.Resource())
	case p.Status.Final():
		send(EventPaymentDeclined, p.Resource())
	}
}
