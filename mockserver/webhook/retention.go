package webhook

import (
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// The webhook package's stored types are mockserver.Retained, so the store bounds them per tenant
// like the simulator's own state.
var (
	_ mockserver.Retained = (*SigningKey)(nil)
	_ mockserver.Retained = (*Webhook)(nil)
	_ mockserver.Retained = (*Delivery)(nil)
)

// DoneAt is zero: a signing key stays until the account deletes it.
func (k *SigningKey) DoneAt() time.Time { return time.Time{} }

// DoneAt is zero: a registration stays until the account deletes it.
func (w *Webhook) DoneAt() time.Time { return time.Time{} }

// DoneAt is zero while the delivery is still to be attempted, and its last change once it was
// DELIVERED or FAILED: only its log entry is left then.
func (d *Delivery) DoneAt() time.Time {
	if d.State != DeliveryDelivered && d.State != DeliveryFailed {
		return time.Time{}
	}
	return d.UpdatedAt
}
