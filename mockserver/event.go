package mockserver

import "time"

// Event types the simulator publishes, with Klarna's names (docs/klarna.md §8).
const (
	EventRequestSubmitted      = "payment.request.state-change.submitted"
	EventRequestInProgress     = "payment.request.state-change.in-progress"
	EventRequestCompleted      = "payment.request.state-change.completed"
	EventRequestDeclined       = "payment.request.state-change.declined"
	EventRequestCanceled       = "payment.request.state-change.canceled"
	EventRequestExpired        = "payment.request.state-change.expired"
	EventTransactionAuthorized = "payment.transaction.state-change.authorized"
	// EventCustomerTokenRevoked announces a revoked customer token, as Klarna's Identity API
	// names it (docs/klarna.md §7). Klarna documents no event for a token's creation: a new token
	// arrives in the completed Payment Request's state_context.klarna_customer, the payload of
	// its payment.request.state-change.completed event, so the mock sends no other.
	EventCustomerTokenRevoked = "identity.customer-token.state-change.revoked"
)

// Event is something that happened to one resource, published after the change is stored; a
// store with an outbox stores it with the change (Tx.Emit).
type Event struct {
	// Type is one of the Event* constants.
	Type string
	// Tenant is whose webhooks receive the event: the API key's isolated state by default, or the
	// partner account when keys are mapped to accounts (see Scope).
	Tenant string
	// AccountID is the partner account the resource belongs to (subject_account_id).
	AccountID string
	// Subject is the id of the resource; events of one subject are delivered in order.
	Subject    string
	OccurredAt time.Time
	// Payload is the event's payload, marshalled to JSON as is.
	Payload any
}

// Publisher receives events. Publish must not block on delivery: the API call that caused the
// event must not wait for webhooks.
type Publisher interface {
	Publish(Event)
}

// PublisherFunc adapts a function to Publisher.
type PublisherFunc func(Event)

// Publish calls f(e).
func (f PublisherFunc) Publish(e Event) { f(e) }

// newEvent builds an event of a resource stored under scope.
func newEvent(typ, scope, subject string, at time.Time, payload any) Event {
	tenant, account := SplitScope(scope)
	return Event{Type: typ, Tenant: tenant, AccountID: account, Subject: subject, OccurredAt: at, Payload: payload}
}

// tokenEvent is an event about a customer token, carrying the token.
func tokenEvent(typ string, ct *CustomerToken, now time.Time) Event {
	return newEvent(typ, ct.AccountID, ct.Token, now, ct)
}

// requestEvent is an event about a Payment Request, carrying the request as it is now.
func requestEvent(typ string, pr *PaymentRequest, now time.Time) Event {
	return newEvent(typ, pr.AccountID, pr.PaymentRequestID, now, pr)
}
