package acquirer

import (
	"errors"
	"time"
)

// ErrNotFound is returned by a Tx for an object that does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned by a Tx when an object would take a unique value (an idempotency key,
// a Payment Request id, a Klarna token) that another object already holds.
var ErrConflict = errors.New("unique value already taken")

// Store keeps the AP's state. Write transactions are serialized: that is what lets a Payment's
// state change exactly once when a webhook and an authorize answer race, or when Klarna
// delivers an event twice at the same time.
type Store interface {
	// View runs fn in a read-only transaction.
	View(fn func(Tx) error) error
	// Update runs fn in a write transaction, committed when fn returns nil and aborted otherwise.
	Update(fn func(Tx) error) error
}

// Tx is one store transaction. Objects passed to Put* must not be changed afterwards, and
// objects returned must not be changed: copy them first.
type Tx interface {
	Payment(id string) (*Payment, error)
	// PaymentByPaymentRequest finds the payment of a Klarna Payment Request.
	PaymentByPaymentRequest(paymentRequestID string) (*Payment, error)
	// PaymentByIdempotencyKey finds the payment a Partner created with an Idempotency-Key.
	PaymentByIdempotencyKey(partnerID, key string) (*Payment, error)
	// PutPayment inserts or replaces a payment by its ID.
	PutPayment(*Payment) error
	DeletePayment(id string) error

	Token(id string) (*Token, error)
	// TokenByKlarnaToken finds the AP token a Partner holds for a Klarna customer token.
	TokenByKlarnaToken(partnerID, klarnaToken string) (*Token, error)
	PutToken(*Token) error

	// KlarnaEventSeen reports whether a Klarna event was processed before.
	KlarnaEventSeen(eventID string) (bool, error)
	// PutKlarnaEvent records that a Klarna event was processed.
	PutKlarnaEvent(eventID string, at time.Time) error
}
