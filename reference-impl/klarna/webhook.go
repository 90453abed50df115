package klarna

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/klarna-mock/klarna-mock/reference-impl/signature"
)

// Headers of Klarna's webhook deliveries. Klarna-Signature is the lowercase hex HMAC-SHA256 of
// the raw body, keyed with the signing key's secret exactly as Klarna returned it (package
// signature, docs/klarna.md §8).
const (
	HeaderSignature    = "Klarna-Signature"
	HeaderSigningKeyID = "Klarna-Signing-Key-Id"
)

// Event types of the Payment Request lifecycle.
const (
	EventRequestSubmitted  = "payment.request.state-change.submitted"
	EventRequestInProgress = "payment.request.state-change.in-progress"
	EventRequestCompleted  = "payment.request.state-change.completed"
	EventRequestDeclined   = "payment.request.state-change.declined"
	EventRequestCanceled   = "payment.request.state-change.canceled"
	EventRequestExpired    = "payment.request.state-change.expired"
)

// Event is a webhook Klarna delivers (envelope version v2).
type Event struct {
	Metadata EventMetadata   `json:"metadata"`
	Payload  json.RawMessage `json:"payload"`
}

// EventMetadata describes an event.
type EventMetadata struct {
	EventType        string    `json:"event_type"`
	EventID          string    `json:"event_id"`
	EventVersion     string    `json:"event_version"`
	OccurredAt       time.Time `json:"occurred_at"`
	SubjectAccountID string    `json:"subject_account_id"`
	WebhookID        string    `json:"webhook_id,omitempty"`
}

// ParseEvent decodes a webhook body. Verify the signature first: only a signed body is Klarna's.
func ParseEvent(body []byte) (*Event, error) {
	e := &Event{}
	if err := json.Unmarshal(body, e); err != nil {
		return nil, fmt.Errorf("klarna: webhook body: %w", err)
	}
	if e.Metadata.EventID == "" || e.Metadata.EventType == "" {
		return nil, errors.New("klarna: webhook body: metadata.event_id and metadata.event_type are required")
	}
	return e, nil
}

// PaymentRequest decodes the payload of a payment.request.state-change.* event.
func (e *Event) PaymentRequest() (*PaymentRequest, error) {
	pr := &PaymentRequest{}
	if err := json.Unmarshal(e.Payload, pr); err != nil {
		return nil, fmt.Errorf("klarna: %s payload: %w", e.Metadata.EventType, err)
	}
	if pr.PaymentRequestID == "" {
		return nil, fmt.Errorf("klarna: %s payload has no payment_request_id", e.Metadata.EventType)
	}
	return pr, nil
}

// Keyring holds the signing secrets webhooks may be signed with, by signing key id. A key set
// with SetDefault verifies deliveries whose key id is not in the ring, for a secret configured
// without its id (such as the mock's static webhook). It is safe for concurrent use, so keys
// can be added while webhooks arrive.
type Keyring struct {
	mu    sync.RWMutex
	keys  map[string]string
	deflt string
}

// NewKeyring returns an empty keyring; it verifies nothing until keys are added.
func NewKeyring() *Keyring { return &Keyring{keys: map[string]string{}} }

// Add makes secret verify deliveries signed under keyID.
func (k *Keyring) Add(keyID, secret string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys[keyID] = secret
}

// SetDefault makes secret verify deliveries of any key id not added.
func (k *Keyring) SetDefault(secret string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.deflt = secret
}

// Empty reports whether the keyring cannot verify anything.
func (k *Keyring) Empty() bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.keys) == 0 && k.deflt == ""
}

// Verify reports whether body carries a valid signature of the key keyID.
func (k *Keyring) Verify(keyID string, body []byte, sig string) bool {
	k.mu.RLock()
	secret, ok := k.keys[keyID]
	if !ok {
		secret = k.deflt
	}
	k.mu.RUnlock()
	return secret != "" && signature.Verify(secret, body, sig)
}
