// Package app assembles the reference acquirer from its parts: the Klarna client, the store,
// the Partner webhooks, the Service and the HTTP server. The acquirer command and the tests both
// build the acquirer through it, so a test runs exactly what a user runs.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	aphttp "github.com/klarna-mock/klarna-mock/reference-impl/http"
	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
	"github.com/klarna-mock/klarna-mock/reference-impl/memdb"
	"github.com/klarna-mock/klarna-mock/reference-impl/mockclock"
	"github.com/klarna-mock/klarna-mock/reference-impl/partnerhook"
)

// Version is the acquirer's version, sent to Klarna in Klarna-Integration-Metadata.
const Version = "1.0.0"

// KlarnaEventTypes are the events the acquirer registers its webhook for: the Payment Request
// lifecycle, which tells it when a step-up ended.
var KlarnaEventTypes = []string{"payment.request.state-change.*"}

// Config chooses what the acquirer talks to.
type Config struct {
	// Klarna configures the Klarna client (base URL, API key, default partner account, retries).
	Klarna klarna.Config
	// KlarnaWebhookSecret verifies Klarna's webhooks whatever key id they name, for a signing
	// key configured by hand (or the mock's static webhook). Keys registered through
	// RegisterKlarnaWebhook are added by id.
	KlarnaWebhookSecret string
	// Partners are the configured Partners; TestMode, if set, also accepts test keys.
	Partners []acquirer.Partner
	TestMode *acquirer.TestMode
	// PartnerWebhooks configures the delivery of the AP's webhooks.
	PartnerWebhooks partnerhook.Config
	Logger          *slog.Logger
	// Now is the acquirer's clock (acquirer.Config.Now). When nil, it is the real clock, except
	// in test mode, where it follows the klarna-mock's clock of the acquirer's tenant
	// (mockclock, reading Klarna.BaseURL with Klarna.APIKey, each reading reused for
	// mockclock.DefaultTTL), so that the acquirer agrees with the mock about the network session
	// token's window however far a test moves that clock; every Klarna webhook has the clock read
	// afresh. A Klarna base URL without the mock's clock endpoint (real Klarna) leaves the real
	// clock.
	Now func() time.Time
}

// App is an assembled acquirer.
type App struct {
	// Handler serves the Partner API and the Klarna webhook listener.
	Handler    http.Handler
	Service    *acquirer.Service
	Klarna     *klarna.Client
	KlarnaKeys *klarna.Keyring
	hooks      *partnerhook.Sender
	log        *slog.Logger
}

// New assembles an acquirer. Close it to stop the Partner webhook deliveries.
func New(cfg Config) (*App, error) {
	logger := cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	if cfg.Klarna.Logger == nil {
		cfg.Klarna.Logger = logger.With("component", "klarna")
	}
	if cfg.Klarna.Integrator.Name == "" {
		cfg.Klarna.Integrator = klarna.Integrator{Name: "klarna-mock-reference-acquirer", ModuleName: "reference-impl", ModuleVersion: Version}
	}
	kc, err := klarna.New(cfg.Klarna)
	if err != nil {
		return nil, err
	}
	partners, err := acquirer.NewPartners(cfg.Partners, cfg.TestMode)
	if err != nil {
		return nil, err
	}
	store, err := memdb.New()
	if err != nil {
		return nil, err
	}
	if cfg.PartnerWebhooks.Logger == nil {
		cfg.PartnerWebhooks.Logger = logger.With("component", "partnerhook")
	}
	hooks := partnerhook.New(cfg.PartnerWebhooks)
	now := cfg.Now
	var mockClock *mockclock.Clock
	if now == nil && cfg.TestMode != nil {
		mockClock = mockclock.New(mockclock.Config{
			BaseURL: cfg.Klarna.BaseURL, APIKey: cfg.Klarna.APIKey, TTL: mockclock.DefaultTTL,
			Logger: logger.With("component", "mockclock"),
		})
		now = mockClock.Now
	}
	svc, err := acquirer.NewService(acquirer.Config{Klarna: kc, Store: store, Partners: partners, Notifier: hooks, Logger: logger, Now: now})
	if err != nil {
		return nil, err
	}
	keys := klarna.NewKeyring()
	if cfg.KlarnaWebhookSecret != "" {
		keys.SetDefault(cfg.KlarnaWebhookSecret)
	}
	srv, err := aphttp.NewServer(aphttp.Deps{Service: svc, Partners: partners, KlarnaKeys: keys, Logger: logger})
	if err != nil {
		return nil, err
	}
	var handler http.Handler = srv
	if mockClock != nil {
		handler = expireOnKlarnaWebhooks(srv, mockClock)
	}
	return &App{Handler: handler, Service: svc, Klarna: kc, KlarnaKeys: keys, hooks: hooks, log: logger}, nil
}

// expireOnKlarnaWebhooks makes the mock's clock be read afresh for every Klarna webhook. A
// webhook is often the first sign that a test moved the mock's clock (the move fires the expiries
// and retries that send webhooks), and the network session token's window the acquirer then
// checks must be checked on the moved clock, not on a reading from before the move.
func expireOnKlarnaWebhooks(h http.Handler, c *mockclock.Clock) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == aphttp.KlarnaWebhookPath {
			c.Expire()
		}
		h.ServeHTTP(w, r)
	})
}

// RegisterKlarnaWebhook registers url (where Klarna reaches this acquirer's /klarna/webhooks)
// with Klarna's notification API: it creates a signing key, registers the webhook for
// KlarnaEventTypes signed with it, and trusts the key from then on.
func (a *App) RegisterKlarnaWebhook(ctx context.Context, url string) (*klarna.Webhook, error) {
	key, err := a.Klarna.CreateSigningKey(ctx, klarna.NewIdempotencyKey())
	if err != nil {
		return nil, fmt.Errorf("creating a Klarna signing key: %w", err)
	}
	if key.SigningKeyID == "" || key.Secret == "" {
		return nil, errors.New("creating a Klarna signing key: the answer has no signing_key_id or secret")
	}
	// Trusted before the webhook exists, so not even the first delivery can be refused.
	a.KlarnaKeys.Add(key.SigningKeyID, key.Secret)
	wh, err := a.Klarna.CreateWebhook(ctx, klarna.NewIdempotencyKey(), klarna.WebhookInput{
		URL: url, EventTypes: KlarnaEventTypes, EventVersion: "v2", SigningKeyID: key.SigningKeyID,
	})
	if err != nil {
		return nil, fmt.Errorf("registering the Klarna webhook: %w", err)
	}
	a.log.Info("klarna webhook registered", "webhook_id", wh.WebhookID, "url", url, "signing_key_id", key.SigningKeyID)
	return wh, nil
}

// Close stops the Partner webhook deliveries, waiting for attempts in flight until ctx ends.
func (a *App) Close(ctx context.Context) error {
	return a.hooks.Close(ctx)
}
