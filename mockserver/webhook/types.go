package webhook

import (
	"encoding/json"
	"time"
)

// Id prefixes (docs/klarna.md §12). Delivery ids are the mock's own.
const (
	SigningKeyIDPrefix = "krn:partner:global:notification:signing-key:"
	WebhookIDPrefix    = "krn:partner:global:notification:webhook:"
	DeliveryIDPrefix   = "krn:partner:global:notification:delivery:"
)

// Ids of the static webhook configured at start (Config.StaticURL) and of its signing key.
const (
	StaticSigningKeyID = SigningKeyIDPrefix + "static"
	StaticWebhookID    = WebhookIDPrefix + "static"
)

// Delivery headers.
const (
	HeaderSigningKeyID = "Klarna-Signing-Key-Id"
	HeaderSignature    = "Klarna-Signature"
)

// Webhook statuses.
const (
	StatusEnabled  = "ENABLED"
	StatusDisabled = "DISABLED"
)

// EventVersion is the only envelope version the mock sends.
const EventVersion = "v2"

// Delivery states.
const (
	DeliveryPending   = "PENDING"
	DeliveryDelivered = "DELIVERED"
	DeliveryFailed    = "FAILED"
)

// Variants of a delivery that is not an event's own (Delivery.Variant).
const (
	// VariantRedelivery is a delivery made again by Redeliver.
	VariantRedelivery = "redelivery"
	// VariantNormal is an event sent once more, unchanged.
	VariantNormal = "normal"
	// VariantDuplicate is an event sent twice in a row, with the same event_id.
	VariantDuplicate = "duplicate"
	// VariantOutOfOrder is a subject's latest event followed by an older one.
	VariantOutOfOrder = "out_of_order"
	// VariantBadSignature is an event under a new event_id with a signature that does not
	// verify.
	VariantBadSignature = "bad_signature"
	// VariantStaleTimestamp is an event under a new event_id whose occurred_at lies far in the
	// past, correctly signed.
	VariantStaleTimestamp = "stale_timestamp"
)

// forged reports whether deliveries of the variant are forgeries: a receiver should refuse them,
// and as nobody retries a forgery they get one attempt.
func forged(variant string) bool {
	return variant == VariantBadSignature || variant == VariantStaleTimestamp
}

// MaxSigningKeys is how many signing keys one account may hold.
const MaxSigningKeys = 50

// SigningKey is a secret that webhooks of an account are signed with. Stored values are never
// mutated.
type SigningKey struct {
	AccountID    string `json:"-"`
	SigningKeyID string `json:"signing_key_id"`
	// SigningKey is the secret, 64 lowercase hex characters used verbatim as the HMAC key. It is
	// set only in the answer to CreateSigningKey and never shown again.
	SigningKey string    `json:"signing_key,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	// Secret is the stored secret, never serialized.
	Secret string `json:"-"`
}

// public returns the key as reads show it: without the secret.
func (k *SigningKey) public() *SigningKey {
	return &SigningKey{SigningKeyID: k.SigningKeyID, CreatedAt: k.CreatedAt}
}

// Webhook is a registration: events of the listed types of the account are posted to URL, signed
// with the signing key. Stored values are never mutated.
type Webhook struct {
	AccountID    string    `json:"-"`
	WebhookID    string    `json:"webhook_id"`
	URL          string    `json:"url"`
	EventTypes   []string  `json:"event_types"`
	EventVersion string    `json:"event_version"`
	SigningKeyID string    `json:"signing_key_id"`
	Status       string    `json:"status"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func (w *Webhook) clone() *Webhook {
	c := *w
	c.EventTypes = append([]string(nil), w.EventTypes...)
	return &c
}

// WebhookInput is the body of a webhook creation. URL, EventTypes and SigningKeyID are required;
// EventVersion defaults to "v2" (the only one accepted) and Status to ENABLED.
type WebhookInput struct {
	URL          string   `json:"url"`
	EventTypes   []string `json:"event_types"`
	EventVersion string   `json:"event_version,omitempty"`
	SigningKeyID string   `json:"signing_key_id"`
	Status       string   `json:"status,omitempty"`
}

// WebhookPatch is the body of a webhook update: only the fields sent (non-nil) change. A JSON
// null counts as not sent.
type WebhookPatch struct {
	URL          *string  `json:"url,omitempty"`
	EventTypes   []string `json:"event_types,omitempty"`
	EventVersion *string  `json:"event_version,omitempty"`
	SigningKeyID *string  `json:"signing_key_id,omitempty"`
	Status       *string  `json:"status,omitempty"`
}

// EventMetadata is the metadata block of the v2 envelope (docs/klarna.md §8).
type EventMetadata struct {
	EventType          string    `json:"event_type"`
	EventID            string    `json:"event_id"`
	EventVersion       string    `json:"event_version"`
	OccurredAt         time.Time `json:"occurred_at"`
	SubjectAccountID   string    `json:"subject_account_id"`
	RecipientAccountID string    `json:"recipient_account_id"`
	ProductInstanceID  string    `json:"product_instance_id"`
	WebhookID          string    `json:"webhook_id"`
	Live               bool      `json:"live"`
}

// Envelope is the body of every webhook the mock posts. Receivers may decode into it and then
// decode Payload according to Metadata.EventType.
type Envelope struct {
	Metadata EventMetadata   `json:"metadata"`
	Payload  json.RawMessage `json:"payload"`
}

// Attempt is one HTTP attempt of a delivery.
type Attempt struct {
	// Attempt numbers attempts from 1.
	Attempt   int       `json:"attempt"`
	StartedAt time.Time `json:"started_at"` // on the tenant's clock
	URL       string    `json:"url"`
	// StatusCode is the receiver's answer, absent when none came (transport error, timeout).
	StatusCode int `json:"status_code,omitempty"`
	// LatencyMS is the real time the attempt took, in milliseconds.
	LatencyMS int64 `json:"latency_ms"`
	// Error says why the attempt failed; absent on success.
	Error string `json:"error,omitempty"`
	// ResponseExcerpt is the start of the receiver's answer, at most MaxResponseExcerpt bytes
	// (invalid UTF-8 replaced), absent when the answer had no body or none came. The mock never
	// keeps a whole answer: a receiver chooses what it sends, and it could be large.
	ResponseExcerpt string `json:"response_excerpt,omitempty"`
	// ResponseTruncated reports that the answer went on beyond ResponseExcerpt.
	ResponseTruncated bool `json:"response_truncated,omitempty"`
}

// MaxResponseExcerpt is the most of a receiver's answer an attempt keeps, in bytes.
const MaxResponseExcerpt = 512

// Delivery is one event on its way to one webhook. Stored values are never mutated.
type Delivery struct {
	AccountID  string        `json:"-"`
	DeliveryID string        `json:"delivery_id"`
	WebhookID  string        `json:"webhook_id"`
	State      string        `json:"state"`
	Event      EventMetadata `json:"event"`
	// Subject is the resource the event is about; deliveries of one subject to one webhook are
	// made in order.
	Subject  string    `json:"subject"`
	Attempts []Attempt `json:"attempts"`
	// NextAttemptAt is when the next attempt is due: the creation time for a new delivery (it
	// is attempted as soon as the deliveries queued before it for the same subject are done),
	// the retry time after a failure, null once DELIVERED or FAILED.
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	// FailureReason says why a FAILED delivery ended.
	FailureReason string `json:"failure_reason,omitempty"`
	// Variant says how the delivery was made when it is not an event's own: VariantRedelivery
	// by Redeliver, the others by Send. Empty for an event's own delivery and a simulated one.
	Variant string `json:"variant,omitempty"`
	// ResentFrom is, with Variant, the delivery whose event this one carries again.
	ResentFrom string `json:"resent_from,omitempty"`
	// SendID is, with Variant, the DeliveryID of the first delivery of the same Send (or of this
	// redelivery). The deliveries of one send form a FIFO of their own: they go out one after
	// the other and neither wait for the subject's other deliveries nor hold them back.
	SendID    string    `json:"send_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Body is the exact envelope posted on every attempt.
	Body []byte `json:"-"`
}

func (d *Delivery) clone() *Delivery {
	c := *d
	c.Attempts = make([]Attempt, len(d.Attempts), len(d.Attempts)+1)
	copy(c.Attempts, d.Attempts)
	if d.NextAttemptAt != nil {
		t := *d.NextAttemptAt
		c.NextAttemptAt = &t
	}
	return &c
}

// retryDelays is the wait after the n-th failure before attempt n+1 (docs/klarna.md §8).
var retryDelays = [...]time.Duration{
	10 * time.Second,
	2 * time.Minute,
	15 * time.Minute,
	3 * time.Hour,
	6 * time.Hour,
	12 * time.Hour,
}

// RetryDelays returns the waits between attempts: element n-1 is the wait after the n-th failed
// attempt. A delivery gets 1 + len(RetryDelays()) attempts.
func RetryDelays() []time.Duration { return append([]time.Duration(nil), retryDelays[:]...) }

// MaxAttempts is how many attempts a delivery gets before it is FAILED.
const MaxAttempts = 1 + len(retryDelays)
