package webhook

import "strings"

// klarnaEventTypes are the v2 event types Klarna's pages name (docs/klarna.md §8), in a stable
// order: the names a webhook may subscribe to, whether or not the mock sends events of them, so
// that creating a webhook Klarna accepts never fails against the mock. Klarna's older v1 names
// (payment.request.state-change.authorized, prepared, pending-confirmation) are left out: the
// mock serves event_version v2 only. contracts/klarna-notifications.yaml lists the same names
// (SubscribableEventType); TestSubscribableMatchesContract keeps the two in step.
var klarnaEventTypes = [...]string{
	// Payment Requests: the Payment Request pages and the Notifications API (v2/r6).
	"payment.request.state-change.submitted",
	"payment.request.state-change.in-progress",
	"payment.request.state-change.completed",
	"payment.request.state-change.canceled",
	"payment.request.state-change.expired",
	"payment.request.state-change.declined",
	// Payment Transactions: "Payment transaction state definitions", "Auto-capture", "Refund
	// payment transactions and allocation" and the Notifications API (v2/r6).
	"payment.transaction.state-change.authorized",
	"payment.transaction.state-change.completed",
	"payment.transaction.state-change.expired",
	"payment.transaction.state-change.closed",
	"payment.transaction.captured",
	"payment.transaction.refunded",
	// Customer tokens: the Identity API.
	"identity.customer-token.state-change.revoked",
	// Partner accounts: "Account lifecycle webhooks" and the Notifications API (v2/r6).
	"partner.account.change.created",
	"partner.account.state-change.operational",
	"partner.account.product.payment.state-change.enabled",
	"partner.account.product.payment.state-change.disabled",
}

// SubscribableEventTypes returns the event types a webhook may name in event_types: every type
// Klarna documents, and every type the mock sends (EventTypes), in a stable order.
func SubscribableEventTypes() []string {
	out := append([]string(nil), klarnaEventTypes[:]...)
	for _, t := range eventTypes {
		if !isKlarnaEventType(t) {
			out = append(out, t)
		}
	}
	return out
}

func isKlarnaEventType(t string) bool {
	for _, k := range klarnaEventTypes {
		if k == t {
			return true
		}
	}
	return false
}

// subscribable reports whether a webhook may subscribe to t by name.
func subscribable(t string) bool { return isKlarnaEventType(t) || knownEventType(t) }

// coversSubscribable reports whether prefix, followed by a dot, starts a subscribable event type:
// the test of a wildcard "prefix.*".
func coversSubscribable(prefix string) bool {
	for _, t := range SubscribableEventTypes() {
		if strings.HasPrefix(t, prefix+".") {
			return true
		}
	}
	return false
}
