// Package partnerhook delivers the acquirer's webhooks to Partners: signed with the Partner's
// secret, asynchronously, and retried with exponential backoff until the Partner answers 2xx.
//
// Each delivery carries the headers AP-Signature (the lowercase hex HMAC-SHA256 of the exact raw
// body, keyed with the Partner's webhook secret, which Partners check with signature.Verify),
// AP-Event-Id and AP-Event-Type. Retries send the byte-identical body, so the signature and
// event_id stay the same and a Partner can de-duplicate by event_id. Deliveries are independent:
// their order is not guaranteed.
//
// Deliveries live in memory. A production acquirer would write each event to an outbox table in
// the transaction that caused it, so a crash cannot lose one.
package partnerhook

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	"github.com/klarna-mock/klarna-mock/reference-impl/backoff"
	"github.com/klarna-mock/klarna-mock/reference-impl/signature"
)

// Headers of every delivery.
const (
	HeaderSignature = "AP-Signature"
	HeaderEventID   = "AP-Event-Id"
	HeaderEventType = "AP-Event-Type"
)

// Defaults of Config.
const (
	DefaultMaxAttempts    = 10
	DefaultInitialBackoff = time.Second
	DefaultMaxBackoff     = 10 * time.Minute
	DefaultAttemptTimeout = 10 * time.Second
	DefaultConcurrency    = 8
	DefaultMaxPending     = 10000
)

// Config configures a Sender. Zero fields take the defaults.
type Config struct {
	// Client posts the webhooks; nil means a plain http.Client. Attempts are bounded by
	// AttemptTimeout either way.
	Client *http.Client
	// Logger receives failed attempts and abandoned deliveries; nil discards.
	Logger *slog.Logger
	// MaxAttempts is how many attempts a delivery gets, the first included.
	MaxAttempts int
	// InitialBackoff is the ceiling of the wait after the first failure; it doubles with every
	// failure up to MaxBackoff, and the actual wait is random below it (full jitter).
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	AttemptTimeout time.Duration
	// Concurrency bounds the attempts in flight at once.
	Concurrency int
	// MaxPending bounds the deliveries not yet done; beyond it new events are dropped and logged.
	MaxPending int
}

// Sender delivers Partner webhooks. It implements acquirer.Notifier. Create it with New and stop
// it with Close.
type Sender struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger
	slots  chan struct{}
	wg     sync.WaitGroup

	// stopRetries ends the waits between attempts when Close begins; abort ends attempts in
	// flight when Close's context ends.
	stopRetries context.Context
	stop        context.CancelFunc
	attempts    context.Context
	abort       context.CancelFunc

	mu      sync.Mutex
	closed  bool
	pending int
}

// New returns a running Sender.
func New(cfg Config) *Sender {
	cfg.MaxAttempts = backoff.OrDefault(cfg.MaxAttempts, DefaultMaxAttempts)
	cfg.InitialBackoff = backoff.OrDefault(cfg.InitialBackoff, DefaultInitialBackoff)
	cfg.MaxBackoff = backoff.OrDefault(cfg.MaxBackoff, DefaultMaxBackoff)
	cfg.AttemptTimeout = backoff.OrDefault(cfg.AttemptTimeout, DefaultAttemptTimeout)
	cfg.Concurrency = backoff.OrDefault(cfg.Concurrency, DefaultConcurrency)
	cfg.MaxPending = backoff.OrDefault(cfg.MaxPending, DefaultMaxPending)
	s := &Sender{
		cfg:    cfg,
		client: cmp.Or(cfg.Client, &http.Client{}),
		log:    cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)),
		slots:  make(chan struct{}, cfg.Concurrency),
	}
	s.stopRetries, s.stop = context.WithCancel(context.Background())
	s.attempts, s.abort = context.WithCancel(context.Background())
	return s
}

// delivery is one event on its way to one Partner.
type delivery struct {
	url       string
	secret    string
	eventID   string
	eventType acquirer.EventType
	body      []byte
}

// Notify queues an event for the Partner and returns at once. Partners without a webhook URL
// get nothing.
func (s *Sender) Notify(p acquirer.Partner, e acquirer.PartnerEvent) {
	if p.WebhookURL == "" {
		s.log.Debug("partner has no webhook url; event not sent", "partner_id", p.ID, "event_type", e.EventType)
		return
	}
	body, err := json.Marshal(e)
	if err != nil {
		s.log.Error("encoding partner event", "partner_id", p.ID, "event_id", e.EventID, "err", err)
		return
	}
	d := &delivery{url: p.WebhookURL, secret: p.WebhookSecret, eventID: e.EventID, eventType: e.EventType, body: body}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.pending >= s.cfg.MaxPending {
		s.log.Error("partner event dropped", "partner_id", p.ID, "event_id", e.EventID, "event_type", e.EventType,
			"closed", s.closed, "pending", s.pending)
		return
	}
	s.pending++
	s.wg.Add(1)
	go s.deliver(d)
}

// deliver attempts a delivery until it succeeds, runs out of attempts, or the Sender closes.
func (s *Sender) deliver(d *delivery) {
	defer func() {
		s.mu.Lock()
		s.pending--
		s.mu.Unlock()
		s.wg.Done()
	}()
	log := s.log.With("url", d.url, "event_id", d.eventID, "event_type", d.eventType)
	for attempt := 1; ; attempt++ {
		err := s.attempt(d)
		if err == nil {
			log.Debug("partner webhook delivered", "attempt", attempt)
			return
		}
		if attempt >= s.cfg.MaxAttempts {
			log.Error("partner webhook failed for good", "attempts", attempt, "err", err)
			return
		}
		wait := backoff.Jittered(s.cfg.InitialBackoff, s.cfg.MaxBackoff, attempt)
		log.Warn("partner webhook attempt failed", "attempt", attempt, "retry_in", wait, "err", err)
		if !backoff.Sleep(s.stopRetries, wait) {
			log.Warn("partner webhook abandoned at shutdown", "attempts", attempt)
			return
		}
	}
}

// errStopped ends a delivery that was waiting for a free slot when the Sender closed.
var errStopped = errors.New("partnerhook: sender closed")

// attempt posts the delivery once; any answer but 2xx is a failure.
func (s *Sender) attempt(d *delivery) error {
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-s.stopRetries.Done():
		return errStopped
	}
	ctx, cancel := context.WithTimeout(s.attempts, s.cfg.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "reference-acquirer-webhooks/1")
	req.Header.Set(HeaderSignature, signature.Sign(d.secret, d.body))
	req.Header.Set(HeaderEventID, d.eventID)
	req.Header.Set(HeaderEventType, string(d.eventType))
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("partner answered %s", resp.Status)
	}
	return nil
}

// Close stops accepting events and abandons deliveries waiting for a retry, then waits for the
// attempts in flight to end, cancelling them when ctx ends.
func (s *Sender) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stop()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.abort()
		return nil
	case <-ctx.Done():
		s.abort()
		<-done
		return ctx.Err()
	}
}
