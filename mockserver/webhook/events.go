package webhook

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// SimulatedAccountID is the subject_account_id of simulated events when the caller's tenant is
// not a partner account id (the mock's default per-API-key tenants).
const SimulatedAccountID = "krn:partner:global:account:test:SIMULATED"

// eventTypes lists every event type a webhook may subscribe to by name, in a stable order.
var eventTypes = [...]string{
	mockserver.EventRequestSubmitted,
	mockserver.EventRequestInProgress,
	mockserver.EventRequestCompleted,
	mockserver.EventRequestDeclined,
	mockserver.EventRequestCanceled,
	mockserver.EventRequestExpired,
	mockserver.EventTransactionAuthorized,
	mockserver.EventTransactionCompleted,
	mockserver.EventTransactionExpired,
	mockserver.EventTransactionClosed,
	mockserver.EventTransactionCaptured,
	mockserver.EventTransactionRefunded,
	mockserver.EventCustomerTokenRevoked,
}

// EventTypes returns the event types webhooks can subscribe to and Simulate can send.
func EventTypes() []string { return append([]string(nil), eventTypes[:]...) }

func knownEventType(t string) bool {
	for _, k := range eventTypes {
		if k == t {
			return true
		}
	}
	return false
}

// validPattern reports whether p is a subscribable event type (see SubscribableEventTypes),
// "*", or a wildcard "prefix.*" whose prefix covers at least one of them at a dot boundary
// (payment.*, payment.request.*, payment.request.state-change.*, identity.*, partner.*, ...).
func validPattern(p string) bool {
	if p == "*" || subscribable(p) {
		return true
	}
	prefix, ok := strings.CutSuffix(p, ".*")
	return ok && prefix != "" && !strings.Contains(prefix, "*") && coversSubscribable(prefix)
}

// MatchEventType reports whether eventType is selected by any of the patterns: "*" selects
// everything, "a.b.*" every type starting with "a.b.", anything else only itself.
func MatchEventType(patterns []string, eventType string) bool {
	for _, p := range patterns {
		if p == "*" || p == eventType {
			return true
		}
		if prefix, ok := strings.CutSuffix(p, "*"); ok && strings.HasSuffix(prefix, ".") && strings.HasPrefix(eventType, prefix) {
			return true
		}
	}
	return false
}

// sampleEvent builds the event Simulate sends: a made-up resource of the right kind in the state
// the event type announces, shaped like the simulator's own payloads.
func sampleEvent(tenant, eventType string, now time.Time) mockserver.Event {
	account := tenant
	if !strings.HasPrefix(account, "krn:partner:") {
		account = SimulatedAccountID
	}
	e := mockserver.Event{Type: eventType, Tenant: tenant, AccountID: account, OccurredAt: now}
	switch eventType {
	case mockserver.EventTransactionAuthorized, mockserver.EventTransactionCompleted, mockserver.EventTransactionExpired,
		mockserver.EventTransactionClosed, mockserver.EventTransactionCaptured, mockserver.EventTransactionRefunded:
		tr := sampleTransaction(eventType, now)
		e.Subject, e.Payload = tr.PaymentTransactionID, tr
	case mockserver.EventCustomerTokenRevoked:
		ct := &mockserver.CustomerToken{
			Token:                  "krn:customer-token:eu1:" + uuid.NewString(),
			CustomerTokenReference: "simulated-token",
			Scopes:                 []string{"payment:customer_not_present"},
		}
		e.Subject, e.Payload = ct.Token, ct
	default: // payment.request.state-change.*
		state, previous := requestStates(eventType)
		pr := &mockserver.PaymentRequest{
			PaymentRequestID:        "krn:payment:eu1:request:" + uuid.NewString(),
			PaymentRequestReference: "simulated-request",
			Amount:                  11800,
			Currency:                "USD",
			State:                   state,
			PreviousState:           previous,
			CreatedAt:               now,
			UpdatedAt:               now,
			ExpiresAt:               now.Add(mockserver.DefaultRequestExpiry),
		}
		switch state {
		case mockserver.StateCompleted:
			pr.CompletedAt = &now
			token := "krn:payment:eu1:klarna-network-session-token:" + uuid.NewString()
			pr.StateContext = &mockserver.StateContext{KlarnaNetworkSessionToken: token, PaymentToken: token}
		case mockserver.StateCanceled:
			pr.CanceledAt = &now
			pr.StateReason = mockserver.ReasonPartnerCanceled
		case mockserver.StateDeclined:
			pr.StateReason = mockserver.ReasonCustomerDeclined
		case mockserver.StateExpired:
			pr.StateReason = mockserver.ReasonInteractionExpired
		}
		e.Subject, e.Payload = pr.PaymentRequestID, pr
	}
	return e
}

// requestStates returns the state a payment.request.state-change event announces and a plausible
// previous state.
func requestStates(eventType string) (state, previous string) {
	switch eventType {
	case mockserver.EventRequestInProgress:
		return mockserver.StateInProgress, mockserver.StateSubmitted
	case mockserver.EventRequestCompleted:
		return mockserver.StateCompleted, mockserver.StateInProgress
	case mockserver.EventRequestDeclined:
		return mockserver.StateDeclined, mockserver.StateInProgress
	case mockserver.EventRequestCanceled:
		return mockserver.StateCanceled, mockserver.StateSubmitted
	case mockserver.EventRequestExpired:
		return mockserver.StateExpired, mockserver.StateSubmitted
	default:
		return mockserver.StateSubmitted, ""
	}
}
