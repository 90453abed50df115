package webhook

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// Bounds of SendInput.StaleBy. The default lies beyond the 21 h 17 min after its event that a
// genuine delivery's last retry can arrive (the sum of RetryDelays), so that a receiver whose
// tolerance lets every genuine retry in still has reason to refuse it.
const (
	DefaultStaleBy = 48 * time.Hour
	MinStaleBy     = time.Second
	MaxStaleBy     = 365 * 24 * time.Hour
)

// SendInput is the body of Send: which event of the tenant to send again, and how. Exactly one
// of DeliveryID, EventID and Resource names the event.
type SendInput struct {
	// DeliveryID names the event a delivery of the tenant carried, to any of its webhooks.
	DeliveryID string `json:"delivery_id,omitempty"`
	// EventID names an event of the tenant by its metadata.event_id, as any of its webhooks
	// received it (the target webhook's delivery first).
	EventID string `json:"event_id,omitempty"`
	// Resource names a resource of the tenant (a delivery's Subject): its latest event as the
	// target webhook received it.
	Resource string `json:"resource,omitempty"`
	// Variant is one of VariantNormal (the default), VariantDuplicate, VariantOutOfOrder,
	// VariantBadSignature and VariantStaleTimestamp.
	Variant string `json:"variant,omitempty"`
	// StaleBy is, for VariantStaleTimestamp only, how far before the tenant's clock the sent
	// event's occurred_at lies, in Go duration syntax (default DefaultStaleBy).
	StaleBy string `json:"stale_by,omitempty"`
}

// sendVariants are the variants Send accepts, in the order its errors list them.
var sendVariants = [...]string{VariantNormal, VariantDuplicate, VariantOutOfOrder, VariantBadSignature, VariantStaleTimestamp}

// SendVariants returns the variants Send accepts.
func SendVariants() []string { return slices.Clone(sendVariants[:]) }

// Redeliver makes a new delivery of the event a delivery of the tenant carried (the same body,
// event_id included) to the same webhook, whatever the old delivery's state, and queues it to be
// attempted at once: it is a FIFO of its own (Delivery.SendID), so it waits neither for the
// subject's other deliveries nor they for it. It is signed with the webhook's current key, sent
// to its current url and retried on the usual schedule; the old delivery is left as it is. An
// unknown delivery, or one whose webhook was deleted since, is a 404. While the tenant is paused
// it waits for Resume like every other delivery.
func (n *Notifier) Redeliver(tenant, deliveryID string) (*Delivery, error) {
	var old *Delivery
	err := n.store.View(func(tx Tx) error {
		var err error
		if old, err = tx.Delivery(tenant, deliveryID); err != nil {
			return notFound(err, "Delivery", deliveryID)
		}
		return n.checkTarget(tx, tenant, old.WebhookID)
	})
	if err != nil {
		return nil, err
	}
	ds, err := n.resend(tenant, old.WebhookID, VariantRedelivery, []resent{{from: old, meta: old.Event, body: old.Body}})
	if err != nil {
		return nil, err
	}
	return ds[0], nil
}

// Send sends an event the tenant's resources already produced, found in its delivery log, to
// the webhook again, in one of the variants a receiver must withstand, and returns the new
// deliveries in the order they go out. The envelope is the event's own with metadata.webhook_id
// set to the webhook, signed with the webhook's current key, except as the variant says:
//
//   - VariantNormal: the event once more, unchanged.
//   - VariantDuplicate: the event twice, the second delivery once the first is done.
//   - VariantOutOfOrder: the subject's latest event, then the named older one, with the event
//     ids they had; named by Resource, the older one is the event before the latest. The
//     named event must have a later one in the log of the webhook it was delivered to (the
//     target, for Resource), else a 400.
//   - VariantBadSignature: the event under a new event_id, with a Klarna-Signature that does
//     not verify.
//   - VariantStaleTimestamp: the event under a new event_id, its occurred_at StaleBy before
//     the tenant's clock, correctly signed.
//
// The forged variants take a new event_id so that a receiver's de-duplication cannot hide
// whether it checks what the variant is about; they get one attempt (see Delivery.Variant). The
// deliveries form one FIFO of their own (Delivery.SendID): they go out now, one after the
// other, waiting neither for the subject's other deliveries nor they for them. The webhook's
// status and event types do not matter. Bad input is a 400; an unknown webhook, delivery, event
// or resource a 404.
func (n *Notifier) Send(tenant, webhookID string, in SendInput) ([]*Delivery, error) {
	variant, staleBy, fields := checkSend(in)
	var picked []*Delivery
	err := n.store.View(func(tx Tx) error {
		if err := n.checkTarget(tx, tenant, webhookID); err != nil {
			return err
		}
		if len(fields) > 0 {
			return invalid(fields)
		}
		var err error
		picked, err = n.pick(tx, tenant, webhookID, variant, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	now := n.now(tenant)
	sends := make([]resent, len(picked))
	for i, src := range picked {
		var env Envelope
		if err := json.Unmarshal(src.Body, &env); err != nil {
			return nil, fmt.Errorf("webhook: stored body of delivery %s: %w", src.DeliveryID, err)
		}
		env.Metadata.WebhookID = webhookID
		if forged(variant) {
			env.Metadata.EventID = uuid.NewString()
		}
		if variant == VariantStaleTimestamp {
			env.Metadata.OccurredAt = now.Add(-staleBy).UTC()
		}
		body, err := json.Marshal(env)
		if err != nil {
			return nil, fmt.Errorf("webhook: marshal envelope of %s: %w", env.Metadata.EventType, err)
		}
		sends[i] = resent{from: src, meta: env.Metadata, body: body}
	}
	return n.resend(tenant, webhookID, variant, sends)
}

// checkSend checks a Send's input and returns its variant (VariantNormal when none is given)
// and how stale a VariantStaleTimestamp event is, or the fields at fault.
func checkSend(in SendInput) (variant string, staleBy time.Duration, fields []mockserver.FieldError) {
	var named []string
	for _, f := range []struct{ name, value string }{{"delivery_id", in.DeliveryID}, {"event_id", in.EventID}, {"resource", in.Resource}} {
		if f.value != "" {
			named = append(named, f.name)
		}
	}
	switch {
	case len(named) == 0:
		fields = append(fields, mockserver.FieldError{Parameter: "delivery_id", ErrorMessage: "one of delivery_id, event_id and resource must name the event to send"})
	case len(named) > 1:
		fields = append(fields, mockserver.FieldError{Parameter: named[1], ErrorMessage: "only one of delivery_id, event_id and resource may be given; " + strings.Join(named, " and ") + " are"})
	}
	variant = in.Variant
	if variant == "" {
		variant = VariantNormal
	}
	if !slices.Contains(sendVariants[:], variant) {
		fields = append(fields, mockserver.FieldError{Parameter: "variant", ErrorMessage: "must be one of " + strings.Join(sendVariants[:], ", ")})
	}
	staleBy = DefaultStaleBy
	switch {
	case in.StaleBy == "":
	case variant != VariantStaleTimestamp:
		fields = append(fields, mockserver.FieldError{Parameter: "stale_by", ErrorMessage: "is only for the variant stale_timestamp"})
	default:
		d, err := time.ParseDuration(in.StaleBy)
		if err != nil || d < MinStaleBy || d > MaxStaleBy {
			fields = append(fields, mockserver.FieldError{Parameter: "stale_by",
				ErrorMessage: fmt.Sprintf("must be a Go duration from %s to %s, such as 48h", MinStaleBy, MaxStaleBy)})
		}
		staleBy = d
	}
	return variant, staleBy, fields
}

// checkTarget returns a 404 unless webhookID is a webhook of the tenant or the static one.
func (n *Notifier) checkTarget(tx Tx, tenant, webhookID string) error {
	if webhookID == StaticWebhookID && n.static != nil {
		return nil
	}
	_, err := tx.Webhook(tenant, webhookID)
	return notFound(err, "Webhook", webhookID)
}

// pick returns the deliveries whose events a Send sends, in the order it sends them.
func (n *Notifier) pick(tx Tx, tenant, webhookID, variant string, in SendInput) ([]*Delivery, error) {
	src, err := n.named(tx, tenant, webhookID, in)
	if err != nil {
		return nil, err
	}
	switch variant {
	case VariantDuplicate:
		return []*Delivery{src, src}, nil
	case VariantOutOfOrder:
		history, err := eventsOf(tx, tenant, src.WebhookID, src.Subject)
		if err != nil {
			return nil, err
		}
		older := 1 // the event before the latest, when the resource names it
		if in.Resource == "" {
			older = -1
			for i, d := range history {
				if d.Event.EventID == src.Event.EventID {
					older = i
					break
				}
			}
		}
		if older < 1 || older >= len(history) {
			return nil, mockserver.Invalid("variant", fmt.Sprintf(
				"out_of_order sends a later event of the resource first, and webhook %q received no event of resource %q after this one", src.WebhookID, src.Subject))
		}
		return []*Delivery{history[0], history[older]}, nil
	}
	return []*Delivery{src}, nil
}

// named returns a delivery of the event a Send's input names: the delivery itself, the first one
// carrying the event id (the target webhook's log first), or the resource's latest event in the
// target webhook's log.
func (n *Notifier) named(tx Tx, tenant, webhookID string, in SendInput) (*Delivery, error) {
	switch {
	case in.DeliveryID != "":
		d, err := tx.Delivery(tenant, in.DeliveryID)
		return d, notFound(err, "Delivery", in.DeliveryID)
	case in.Resource != "":
		history, err := eventsOf(tx, tenant, webhookID, in.Resource)
		if err != nil {
			return nil, err
		}
		if len(history) == 0 {
			return nil, mockserver.NewError(mockserver.CodeNotFound, fmt.Sprintf(
				"Webhook %q received no event of resource %q that the delivery log still holds; name the event by event_id or delivery_id to send one another webhook received.", webhookID, in.Resource))
		}
		return history[0], nil
	}
	hooks, err := tx.Webhooks(tenant)
	if err != nil {
		return nil, err
	}
	ids := []string{webhookID}
	for _, w := range hooks {
		ids = append(ids, w.WebhookID)
	}
	if n.static != nil {
		ids = append(ids, StaticWebhookID)
	}
	for i, id := range ids {
		if i > 0 && id == webhookID {
			continue
		}
		log, err := tx.Deliveries(tenant, id, math.MaxInt)
		if err != nil {
			return nil, err
		}
		for _, d := range log {
			if d.Event.EventID == in.EventID {
				return d, nil
			}
		}
	}
	return nil, mockserver.NotFound("Event", in.EventID)
}

// eventsOf returns the deliveries of the subject's own events to the webhook, newest first: the
// order the events happened in, as the webhook's log is in creation order. Deliveries made by
// Send and Redeliver are left out, so that an older event sent again does not count as newer.
func eventsOf(tx Tx, tenant, webhookID, subject string) ([]*Delivery, error) {
	log, err := tx.Deliveries(tenant, webhookID, math.MaxInt)
	if err != nil {
		return nil, err
	}
	var out []*Delivery
	for _, d := range log {
		if d.Subject == subject && d.Variant == "" {
			out = append(out, d)
		}
	}
	return out, nil
}

// resent is one delivery a Send or Redeliver makes: the delivery it comes from, and the
// metadata and body it carries.
type resent struct {
	from *Delivery
	meta EventMetadata
	body []byte
}

// resend stores and queues the deliveries of one Send or Redeliver to the webhook, as one FIFO
// of their own, in order, and returns copies of them.
func (n *Notifier) resend(tenant, webhookID, variant string, sends []resent) ([]*Delivery, error) {
	if err := n.enter(); err != nil {
		return nil, err
	}
	defer n.wg.Done()
	now := n.now(tenant)
	ds := make([]*Delivery, len(sends))
	for i, s := range sends {
		d := newDelivery(tenant, webhookID, s.from.Subject, s.meta, s.body, now)
		d.Variant, d.ResentFrom = variant, s.from.DeliveryID
		ds[i] = d
		d.SendID = ds[0].DeliveryID
	}
	if err := n.admit(tenant, ds); err != nil {
		return nil, err
	}
	out := make([]*Delivery, len(ds))
	for i, d := range ds {
		out[i] = d.clone()
	}
	return out, nil
}
