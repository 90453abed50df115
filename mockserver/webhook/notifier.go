package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

// Defaults of Config.
const (
	DefaultWorkers              = 8
	DefaultAttemptTimeout       = 10 * time.Second
	DefaultMaxPendingPerTenant  = 10000
	DefaultMaxInFlightPerTenant = 2
	DefaultDeliveryLimit        = 20
	MaxDeliveryLimit            = 1000
)

// Config configures a Notifier. Every field has a default.
type Config struct {
	// Clock is the base clock: a tenant's times and retry schedule run on Clock.Tenant(tenant)
	// (attempt timeouts run in real time). Nil means a real clock owned (and closed) by the
	// Notifier.
	Clock *clock.Clock
	// Client sends the webhooks; nil means a client that opens a fresh connection per attempt
	// (no keep-alive), uses no proxy, and checks at dial time the address a host name resolved
	// to (see RefusePrivate). A Client given here is used as it is: its transport does the
	// dialing, so only the check at registration applies. Redirects are never followed,
	// whatever the client's CheckRedirect says.
	Client *http.Client
	// RefusePrivate refuses, besides the link-local and cloud metadata addresses that are always
	// refused, loopback (127.0.0.0/8, ::1), private (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16,
	// fc00::/7, 100.64.0.0/10) and unspecified addresses, at registration and at every attempt.
	// Off by default: local development sends webhooks to 127.0.0.1.
	RefusePrivate bool
	// Logger receives delivery failures and the shutdown report; nil means slog.Default().
	Logger *slog.Logger

	// StaticURL, if set, is a webhook configured at start (for CI) that receives the events of
	// every account, signed with StaticSecret (used verbatim as the HMAC key) under the key id
	// StaticSigningKeyID. Its deliveries are recorded under StaticWebhookID.
	StaticURL    string
	StaticSecret string
	// StaticEventTypes selects the static webhook's events; empty means "*".
	StaticEventTypes []string

	// Workers is how many attempts run at once, for all tenants together (default 8). It must
	// exceed MaxInFlightPerTenant, so that one tenant never occupies every worker.
	Workers int
	// MaxInFlightPerTenant is how many attempts of one tenant run at once (default 2).
	MaxInFlightPerTenant int
	// AttemptTimeout bounds one attempt (default 10 s).
	AttemptTimeout time.Duration
	// MaxPendingPerTenant bounds one tenant's deliveries queued or waiting for a retry (default
	// 10000); a delivery of the tenant beyond it is recorded as FAILED at once, with the reason,
	// and logged. Other tenants are not affected.
	MaxPendingPerTenant int
	// Live is the envelope's metadata.live.
	Live bool
	// ProductInstanceID gives metadata.product_instance_id for a partner account (the event's
	// AccountID); nil leaves it empty.
	ProductInstanceID func(partnerAccountID string) string
	// Outcome, when set, is told the state each attempt leaves its delivery in (DeliveryDelivered,
	// DeliveryFailed, or DeliveryPending when a retry is scheduled), and DeliveryFailed for each
	// delivery given up without an attempt, once that is stored: the mock's metrics count them.
	// It runs on the delivery path and must not block.
	Outcome func(state string)
	// Claims, when set, says the store is shared with other processes (several mocks on one
	// PostgreSQL database): each attempt is claimed first, so that one process alone makes it,
	// and Publish asks the store for webhooks rather than counting this process's. Nil (memdb)
	// claims nothing.
	Claims Claimer
	// Outbox, when set, is the store's durable outbox (PostgreSQL's), where the simulator's
	// changes record their events: the notifier takes the events from it (DrainOutbox) when the
	// store's commits wake it, rather than from Publish, which then does nothing. Nil (memdb)
	// delivers what Publish is given.
	Outbox Outbox
	// PauseChanged, when set, is told of each Pause and Resume of a tenant once it took effect:
	// a mock on a shared database saves it at once, for the others to keep to.
	PauseChanged func(tenant string, paused bool)
}

// Notifier keeps signing keys and webhooks and delivers events to them. It implements
// mockserver.Publisher. Create it with New and stop it with Close.
type Notifier struct {
	store    Store
	clock    *clock.Clock // the base clock; see now
	ownClock bool
	client   *http.Client
	log      *slog.Logger
	cfg      Config
	policy   addrPolicy
	static   *target // nil without a static webhook
	// holder names this Notifier in its claims (Config.Claims).
	holder string
	// webhooks counts the registered webhooks of all accounts, so that Publish can skip the
	// dispatcher entirely while there is nowhere to deliver: the common case under load.
	webhooks atomic.Int64

	// runCtx is the parent of every attempt; Close cancels it when its own context ends.
	runCtx context.Context
	abort  context.CancelCauseFunc

	wg sync.WaitGroup // dispatcher, workers and Simulate calls in progress

	// inboxMu guards only the inbox, so Publish never waits for the delivery machinery.
	inboxMu sync.Mutex
	// inbox holds each owner's published events in publication order; inboxTurns lists the
	// owners with events in it, in the order the dispatcher takes one event of each.
	inbox       map[string][]mockserver.Event
	inboxTurns  []string
	inboxClosed bool
	inboxSignal chan struct{}
	// undispatched counts, per owner, the events published and not yet queued as deliveries:
	// those in the inbox and the one the dispatcher is working on. Due reports them.
	undispatched map[string]int
	// dispatching is the owner of the event the dispatcher is working on ("" between events);
	// dispatched is broadcast when it finishes one, for ForgetTenant to wait on.
	dispatching string
	dispatched  *sync.Cond

	mu      sync.Mutex
	cond    *sync.Cond // signalled when ring grows or closing is set
	closing bool
	// tenants holds the queues of every tenant with deliveries queued, being attempted or being
	// created; ring lists the tenants that have a queue ready and room for another attempt, in
	// the order workers serve them.
	tenants map[string]*tenantQueues
	ring    []*tenantQueues
	seq     uint64 // creation order of queued deliveries
	// paused holds the tenants whose deliveries are paused (Pause). It is kept apart from
	// tenants, whose entry goes when the tenant has nothing queued: a pause outlives that.
	paused map[string]bool
}

// New validates cfg and starts a Notifier on store: its dispatcher and workers run until Close.
func New(store Store, cfg Config) (*Notifier, error) {
	if store == nil {
		return nil, errors.New("webhook: nil store")
	}
	n := &Notifier{
		store:        store,
		clock:        cfg.Clock,
		log:          cfg.Logger,
		policy:       addrPolicy{refusePrivate: cfg.RefusePrivate},
		inbox:        make(map[string][]mockserver.Event),
		inboxSignal:  make(chan struct{}, 1),
		undispatched: make(map[string]int),
		tenants:      make(map[string]*tenantQueues),
		paused:       make(map[string]bool),
		holder:       newHolder(),
	}
	n.cond = sync.NewCond(&n.mu)
	n.dispatched = sync.NewCond(&n.inboxMu)
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.MaxInFlightPerTenant <= 0 {
		cfg.MaxInFlightPerTenant = DefaultMaxInFlightPerTenant
	}
	if cfg.Workers <= cfg.MaxInFlightPerTenant {
		return nil, fmt.Errorf("webhook: %d workers must be more than the %d attempts one tenant may run at once, or one tenant's slow receiver could hold up every other tenant",
			cfg.Workers, cfg.MaxInFlightPerTenant)
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = DefaultAttemptTimeout
	}
	if cfg.MaxPendingPerTenant <= 0 {
		cfg.MaxPendingPerTenant = DefaultMaxPendingPerTenant
	}
	if len(cfg.StaticEventTypes) == 0 {
		cfg.StaticEventTypes = []string{"*"}
	}
	if cfg.StaticURL != "" {
		if msg := n.policy.checkURL(cfg.StaticURL); msg != "" {
			return nil, fmt.Errorf("webhook: static webhook url %q %s", cfg.StaticURL, msg)
		}
		if cfg.StaticSecret == "" {
			return nil, errors.New("webhook: a static webhook url needs a static secret")
		}
		for _, p := range cfg.StaticEventTypes {
			if !validPattern(p) {
				return nil, fmt.Errorf("webhook: static webhook event type %q is not a known event type or wildcard", p)
			}
		}
		n.static = &target{url: cfg.StaticURL, keyID: StaticSigningKeyID, secret: []byte(cfg.StaticSecret)}
	}
	n.cfg = cfg
	if n.log == nil {
		n.log = slog.Default()
	}
	if n.clock == nil {
		n.clock, n.ownClock = clock.NewReal(), true
	}
	client := http.Client{Transport: newTransport(n.policy)}
	if cfg.Client != nil {
		client = *cfg.Client
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	n.client = &client
	n.runCtx, n.abort = context.WithCancelCause(context.Background())

	n.wg.Add(1 + cfg.Workers)
	if cfg.Outbox != nil {
		cfg.Outbox.Notify(n.static != nil, n.outboxWoke)
		go n.outboxLoop()
	} else {
		go n.dispatchLoop()
	}
	for range cfg.Workers {
		go n.worker()
	}
	return n, nil
}

// newTransport returns the transport of the default client. It opens a fresh connection per
// attempt: a pooled keep-alive connection can be stale when the receiver restarted (tests start
// and stop receivers all the time, and ports get reused); Go does not replay a POST on a stale
// connection, so the attempt would fail for nothing and wait for a retry. It dials the
// receiver itself, never a proxy from the environment: through a proxy the address check
// would see the proxy's address, and the proxy would connect anywhere.
func newTransport(p addrPolicy) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableKeepAlives = true
	t.Proxy = nil
	t.DialContext = (&net.Dialer{Control: p.control}).DialContext // the attempt's context bounds the dial
	return t
}

// now is the tenant's time: every time the Notifier records or schedules for a tenant is on the
// tenant's own clock, which only that tenant (or a move of the base clock) advances.
func (n *Notifier) now(tenant string) time.Time { return n.clock.Tenant(tenant).Now() }

// Static reports whether a static webhook is configured.
func (n *Notifier) Static() bool { return n.static != nil }

// ---- signing keys

// CreateSigningKey creates a signing key for the account. The answer is the only one that carries
// the secret (SigningKey.SigningKey). An account holding MaxSigningKeys keys gets 403 FORBIDDEN.
func (n *Notifier) CreateSigningKey(accountID string) (*SigningKey, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, fmt.Errorf("webhook: signing key secret: %w", err)
	}
	key := &SigningKey{
		AccountID:    accountID,
		SigningKeyID: SigningKeyIDPrefix + uuid.NewString(),
		CreatedAt:    n.now(accountID),
		Secret:       hex.EncodeToString(raw[:]),
	}
	err := n.store.Update(func(tx Tx) error {
		keys, err := tx.SigningKeys(accountID)
		if err != nil {
			return err
		}
		if len(keys) >= MaxSigningKeys {
			return mockserver.NewError(mockserver.CodeForbidden,
				fmt.Sprintf("An account can hold at most %d signing keys; delete one first.", MaxSigningKeys))
		}
		return tx.PutSigningKey(key)
	})
	if err != nil {
		return nil, err
	}
	out := key.public()
	out.SigningKey = key.Secret
	return out, nil
}

// ReadSigningKey returns the key without its secret, or 404.
func (n *Notifier) ReadSigningKey(accountID, id string) (*SigningKey, error) {
	return readOne(n, Tx.SigningKey, accountID, id, "Signing key", (*SigningKey).public)
}

// ListSigningKeys returns the account's keys, oldest first, without their secrets; the slice is
// empty, not nil, when there are none.
func (n *Notifier) ListSigningKeys(accountID string) ([]*SigningKey, error) {
	return readAll(n, Tx.SigningKeys, accountID, (*SigningKey).public)
}

// DeleteSigningKey deletes the key: 404 if the account has no such key, 409 RESOURCE_IN_USE if a
// webhook of the account still uses it.
func (n *Notifier) DeleteSigningKey(accountID, id string) error {
	err := n.store.Update(func(tx Tx) error {
		if _, err := tx.SigningKey(accountID, id); err != nil {
			return err
		}
		hooks, err := tx.Webhooks(accountID)
		if err != nil {
			return err
		}
		for _, w := range hooks {
			if w.SigningKeyID == id {
				return mockserver.NewError(mockserver.CodeResourceInUse,
					fmt.Sprintf("Signing key %q is used by webhook %q; delete the webhook or give it another key first.", id, w.WebhookID))
			}
		}
		return tx.DeleteSigningKey(accountID, id)
	})
	return notFound(err, "Signing key", id)
}

// ---- webhooks

// CreateWebhook registers a webhook. Bad input is a 400 VALIDATION_ERROR naming every offending
// field (url, event_types, event_types[i], event_version, signing_key_id, status); a url naming
// an address the mock does not send to (see Config.RefusePrivate) is bad input. A webhook of the
// account with the same url and event types is a 409 ALREADY_EXISTS.
func (n *Notifier) CreateWebhook(accountID string, in WebhookInput) (*Webhook, error) {
	now := n.now(accountID)
	w := &Webhook{
		AccountID:    accountID,
		WebhookID:    WebhookIDPrefix + uuid.NewString(),
		URL:          in.URL,
		EventTypes:   append([]string(nil), in.EventTypes...),
		EventVersion: in.EventVersion,
		SigningKeyID: in.SigningKeyID,
		Status:       in.Status,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	if w.EventVersion == "" {
		w.EventVersion = EventVersion
	}
	if w.Status == "" {
		w.Status = StatusEnabled
	}
	var fields []mockserver.FieldError
	fields = append(fields, n.checkURLField(w.URL)...)
	fields = append(fields, checkEventTypes(in.EventTypes)...)
	fields = append(fields, checkVersion(w.EventVersion)...)
	fields = append(fields, checkStatus(w.Status)...)
	if w.SigningKeyID == "" {
		fields = append(fields, mockserver.FieldError{Parameter: "signing_key_id", ErrorMessage: "is required"})
	}
	err := n.store.Update(func(tx Tx) error {
		if w.SigningKeyID != "" {
			fields = append(fields, checkKey(tx, accountID, w.SigningKeyID)...)
		}
		if len(fields) > 0 {
			return invalid(fields)
		}
		if err := refuseDuplicate(tx, w); err != nil {
			return err
		}
		return tx.PutWebhook(w)
	})
	if err != nil {
		return nil, err
	}
	n.webhooks.Add(1)
	return w.clone(), nil
}

// ReadWebhook returns the webhook, or 404. The static webhook is configuration, not an account's
// resource: it is not readable here.
func (n *Notifier) ReadWebhook(accountID, id string) (*Webhook, error) {
	return readOne(n, Tx.Webhook, accountID, id, "Webhook", (*Webhook).clone)
}

// ListWebhooks returns the account's webhooks, oldest first; the slice is empty, not nil, when
// there are none.
func (n *Notifier) ListWebhooks(accountID string) ([]*Webhook, error) {
	return readAll(n, Tx.Webhooks, accountID, (*Webhook).clone)
}

// UpdateWebhook changes the fields sent in p (PATCH semantics) and returns the webhook: 404 for an
// unknown id, 400 and 409 as for CreateWebhook. Pending deliveries keep their schedule and use the new
// url and signing key from their next attempt on.
func (n *Notifier) UpdateWebhook(accountID, id string, p WebhookPatch) (*Webhook, error) {
	var out *Webhook
	err := n.store.Update(func(tx Tx) error {
		old, err := tx.Webhook(accountID, id)
		if err != nil {
			return err
		}
		w := old.clone()
		var fields []mockserver.FieldError
		if p.URL != nil {
			w.URL = *p.URL
			fields = append(fields, n.checkURLField(w.URL)...)
		}
		if p.EventTypes != nil {
			w.EventTypes = append([]string(nil), p.EventTypes...)
			fields = append(fields, checkEventTypes(p.EventTypes)...)
		}
		if p.EventVersion != nil {
			w.EventVersion = *p.EventVersion
			fields = append(fields, checkVersion(w.EventVersion)...)
		}
		if p.Status != nil {
			w.Status = *p.Status
			fields = append(fields, checkStatus(w.Status)...)
		}
		if p.SigningKeyID != nil {
			w.SigningKeyID = *p.SigningKeyID
			if w.SigningKeyID == "" {
				fields = append(fields, mockserver.FieldError{Parameter: "signing_key_id", ErrorMessage: "must not be empty"})
			} else {
				fields = append(fields, checkKey(tx, accountID, w.SigningKeyID)...)
			}
		}
		if len(fields) > 0 {
			return invalid(fields)
		}
		if err := refuseDuplicate(tx, w); err != nil {
			return err
		}
		w.UpdatedAt = n.now(accountID)
		out = w
		return tx.PutWebhook(w)
	})
	if err != nil {
		return nil, notFound(err, "Webhook", id)
	}
	return out.clone(), nil
}

// DeleteWebhook deletes the webhook, or returns 404. Its pending deliveries end promptly as FAILED
// (after an attempt in flight finishes); its deliveries stay readable with Delivery.
func (n *Notifier) DeleteWebhook(accountID, id string) error {
	err := n.store.Update(func(tx Tx) error { return tx.DeleteWebhook(accountID, id) })
	if err != nil {
		return notFound(err, "Webhook", id)
	}
	n.webhooks.Add(-1)
	n.expedite(accountID, id)
	return nil
}

// Simulate sends a sample event of eventType (with made-up resource ids) to the webhook now,
// whatever its status and event types, and returns the new delivery. eventVersion must be "v2"
// or empty.
func (n *Notifier) Simulate(accountID, webhookID, eventType, eventVersion string) (*Delivery, error) {
	var fields []mockserver.FieldError
	switch {
	case eventType == "":
		fields = append(fields, mockserver.FieldError{Parameter: "event_type", ErrorMessage: "is required"})
	case !knownEventType(eventType):
		fields = append(fields, mockserver.FieldError{Parameter: "event_type", ErrorMessage: "is not a known event type; one of " + strings.Join(eventTypes[:], ", ")})
	}
	if eventVersion != "" {
		fields = append(fields, checkVersion(eventVersion)...)
	}
	if _, err := n.ReadWebhook(accountID, webhookID); err != nil {
		return nil, err
	}
	if len(fields) > 0 {
		return nil, invalid(fields)
	}
	if err := n.enter(); err != nil {
		return nil, err
	}
	defer n.wg.Done()

	e := sampleEvent(accountID, eventType, n.now(accountID))
	ds, err := n.deliver(e, []string{webhookID})
	if err != nil {
		return nil, err
	}
	return ds[0].clone(), nil
}

// enter counts a call that makes deliveries among the work Close waits for, or refuses it once
// Close has begun. The caller calls n.wg.Done when it is done.
func (n *Notifier) enter() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closing {
		return errClosedAPI()
	}
	n.wg.Add(1)
	return nil
}

// ---- deliveries

// Deliveries lists the deliveries of one webhook of the account, newest first, at most limit
// (<= 0 means DefaultDeliveryLimit, capped at MaxDeliveryLimit); the slice is empty, not nil,
// when there are none. StaticWebhookID lists the account's deliveries to the static webhook.
// Mock-only: Klarna has no such endpoint.
func (n *Notifier) Deliveries(accountID, webhookID string, limit int) ([]*Delivery, error) {
	if limit <= 0 {
		limit = DefaultDeliveryLimit
	}
	limit = min(limit, MaxDeliveryLimit)
	return readAll(n, func(tx Tx, accountID string) ([]*Delivery, error) {
		if webhookID != StaticWebhookID || n.static == nil {
			if _, err := tx.Webhook(accountID, webhookID); err != nil {
				return nil, notFound(err, "Webhook", webhookID)
			}
		}
		return tx.Deliveries(accountID, webhookID, limit)
	}, accountID, (*Delivery).clone)
}

// Delivery returns one delivery of the account, or 404. Mock-only.
func (n *Notifier) Delivery(accountID, id string) (*Delivery, error) {
	return readOne(n, Tx.Delivery, accountID, id, "Delivery", (*Delivery).clone)
}

// ---- reads
//
// Stored values are never changed, so what a read returns is a copy (or, for signing keys, the
// public part): callers may change it freely.

// readOne reads one object of the account with get and returns out's copy of it; an object the
// account does not have is a 404 naming what and id.
func readOne[T any](n *Notifier, get func(Tx, string, string) (T, error), accountID, id, what string, out func(T) T) (T, error) {
	var v T
	err := n.store.View(func(tx Tx) error {
		var err error
		v, err = get(tx, accountID, id)
		return err
	})
	if err != nil {
		var zero T
		return zero, notFound(err, what, id)
	}
	return out(v), nil
}

// readAll lists objects of the account with get and returns out's copy of each, in get's order.
// The slice is never nil, so that an empty list is encoded as [] rather than null.
func readAll[T any](n *Notifier, get func(Tx, string) ([]T, error), accountID string, out func(T) T) ([]T, error) {
	var vs []T
	err := n.store.View(func(tx Tx) error {
		var err error
		vs, err = get(tx, accountID)
		return err
	})
	if err != nil {
		return nil, err
	}
	copies := make([]T, len(vs))
	for i, v := range vs {
		copies[i] = out(v)
	}
	return copies, nil
}

// ---- validation helpers

func (n *Notifier) checkURLField(raw string) []mockserver.FieldError {
	if msg := n.policy.checkURL(raw); msg != "" {
		return []mockserver.FieldError{{Parameter: "url", ErrorMessage: msg}}
	}
	return nil
}

func checkEventTypes(types []string) []mockserver.FieldError {
	if len(types) == 0 {
		return []mockserver.FieldError{{Parameter: "event_types", ErrorMessage: "must list at least one event type"}}
	}
	var fields []mockserver.FieldError
	seen := make(map[string]bool, len(types))
	for i, t := range types {
		param := fmt.Sprintf("event_types[%d]", i)
		switch {
		case !validPattern(t):
			fields = append(fields, mockserver.FieldError{Parameter: param,
				ErrorMessage: fmt.Sprintf("%q is not a known event type or wildcard (*, payment.*, payment.request.*, payment.request.state-change.*, ...)", t)})
		case seen[t]:
			fields = append(fields, mockserver.FieldError{Parameter: param, ErrorMessage: fmt.Sprintf("%q is listed twice", t)})
		}
		seen[t] = true
	}
	return fields
}

func checkVersion(v string) []mockserver.FieldError {
	if v != EventVersion {
		return []mockserver.FieldError{{Parameter: "event_version", ErrorMessage: "must be \"v2\", the only version the mock sends"}}
	}
	return nil
}

func checkStatus(s string) []mockserver.FieldError {
	if s != StatusEnabled && s != StatusDisabled {
		return []mockserver.FieldError{{Parameter: "status", ErrorMessage: "must be ENABLED or DISABLED"}}
	}
	return nil
}

func checkKey(tx Tx, accountID, id string) []mockserver.FieldError {
	if _, err := tx.SigningKey(accountID, id); err != nil {
		return []mockserver.FieldError{{Parameter: "signing_key_id", ErrorMessage: "does not name a signing key of this account"}}
	}
	return nil
}

// invalid returns a 400 VALIDATION_ERROR listing every field.
func invalid(fields []mockserver.FieldError) *mockserver.Error {
	e := mockserver.Invalid(fields[0].Parameter, fields[0].ErrorMessage)
	if len(fields) > 1 {
		e.ErrorMessage += fmt.Sprintf(" (and %d more)", len(fields)-1)
		e.Errors = fields
	}
	return e
}

// notFound turns mockserver.ErrNotFound into a 404 Klarna error; other errors pass through.
func notFound(err error, what, id string) error {
	if errors.Is(err, mockserver.ErrNotFound) {
		return mockserver.NotFound(what, id)
	}
	return err
}

// errForgotten is the error of a delivery made while its tenant was being forgotten (reset): the
// webhook it was for is gone.
func errForgotten() *mockserver.Error {
	return mockserver.NewError(mockserver.CodeNotFound,
		"The tenant was reset while the event was being delivered; its webhooks are gone.")
}

func errClosedAPI() *mockserver.Error {
	return mockserver.NewError(mockserver.CodeServiceUnavailable,
		"The mock is shutting down and sends no more webhooks.")
}
