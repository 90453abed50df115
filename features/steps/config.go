package steps

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Defaults of the reference acquirer command (cmd/acquirer), used when the suite is pointed at an
// Acquiring Partner started elsewhere and nothing else is said.
const (
	DefaultAcquirerKlarnaAPIKey    = "klarna_test_api_reference_acquirer"
	DefaultAcquirerKlarnaAccountID = "krn:partner:global:account:test:REFACQ01"
	DefaultPartnerKeyPrefix        = "ap_test_"
	DefaultPartnerWebhookURL       = "http://127.0.0.1:8491/partner/webhooks"
	DefaultPartnerWebhookSecret    = "whsec_contract_suite"
	DefaultWaitTimeout             = 10 * time.Second
)

// Config says which systems the suite exercises. The zero value runs everything in process for
// each scenario: a fresh klarna-mock, a fresh reference Acquiring Partner (reference-impl) and a
// fresh Partner double.
type Config struct {
	// AcquirerURL is the Acquiring Partner under test, serving the Partner API of
	// contracts/acquirer.yaml. Empty starts the reference Acquiring Partner in process for each
	// scenario. An external Acquiring Partner needs KlarnaMockURL too: it must already be
	// configured with the mock's URL.
	AcquirerURL string
	// AcquirerKlarnaWebhookURL is where the Acquiring Partner takes Klarna's webhooks; empty
	// means AcquirerURL + "/klarna/webhooks". The forged-webhook scenario posts there.
	AcquirerKlarnaWebhookURL string
	// PartnerAPIKey is the Partner's key at the Acquiring Partner (Authorization: Bearer). When
	// empty, every scenario uses a fresh key PartnerKeyPrefix + random hex, which needs an
	// Acquiring Partner accepting such keys (the reference one's test mode, "ap_test_").
	PartnerAPIKey    string
	PartnerKeyPrefix string
	// OtherPartnerAPIKey is a second Partner's key, for the scenario charging another Partner's
	// token; without it (and without a prefix) that scenario is skipped.
	OtherPartnerAPIKey string
	// PartnerWebhookURL is where an external Acquiring Partner sends the Partner's webhooks: the
	// suite listens on its host and port and serves its path. PartnerWebhookSecret is the secret
	// the Acquiring Partner signs them with (AP-Signature).
	PartnerWebhookURL    string
	PartnerWebhookSecret string

	// KlarnaMockURL is the klarna-mock the Acquiring Partner talks to. Empty starts one in
	// process for each scenario (only with an in-process Acquiring Partner).
	KlarnaMockURL string
	// KlarnaAPIKey and KlarnaAccountID are the Acquiring Partner's API key and partner account
	// at the mock. The key is the scenario's tenant there: the suite reads the journal of what
	// the Acquiring Partner sent, acts as the customer and moves the clock with it, so a
	// scenario's clock moves are that tenant's alone. An Acquiring Partner started elsewhere
	// has its own fixed key, which must be given here (default DefaultAcquirerKlarnaAPIKey).
	// With an in-process Acquiring Partner and an external mock, an empty key means a fresh
	// key per scenario, configured into that scenario's Acquiring Partner (the mock isolates
	// each key's state and clock).
	KlarnaAPIKey    string
	KlarnaAccountID string
	// PartnerKlarnaAPIKey is the key the Partner uses when it calls Klarna directly (Klarna's
	// SDK: payment presentation, Klarna Express Checkout); empty means KlarnaAPIKey, so both see
	// the same customer tokens and sessions.
	PartnerKlarnaAPIKey string

	// WrapAcquirerKlarnaTransport, if set, wraps the HTTP transport the in-process reference
	// Acquiring Partner calls Klarna with. It exists to test the suite itself: deliberately
	// broken Acquiring Partners are built by mutating what the reference one sends.
	WrapAcquirerKlarnaTransport func(http.RoundTripper) http.RoundTripper

	// WaitTimeout bounds every wait for something asynchronous (a webhook to the Partner);
	// 0 means DefaultWaitTimeout.
	WaitTimeout time.Duration
	// Logger receives the logs of the systems started in process; nil discards them.
	Logger *slog.Logger
	// Report receives, after the run, the scenarios the suite skipped because this setup
	// cannot run them, each with the reason (godog's formatters say a step was skipped, not
	// why); nil means os.Stdout. It is plain text: point it at godog's Options.Output only when
	// that is a formatter for people (pretty, progress).
	Report io.Writer
}

// ConfigFromEnv reads a Config from the environment:
//
//	ACQUIRER_URL                    the Acquiring Partner under test (empty: the reference one, in process)
//	ACQUIRER_KLARNA_WEBHOOK_URL     its Klarna webhook listener (default ACQUIRER_URL/klarna/webhooks)
//	ACQUIRER_PARTNER_KEY            a fixed Partner API key, or
//	ACQUIRER_PARTNER_KEY_PREFIX     a prefix for a fresh key per scenario (default ap_test_)
//	ACQUIRER_OTHER_PARTNER_KEY      a second Partner's key (optional)
//	ACQUIRER_PARTNER_WEBHOOK_URL    where the Acquiring Partner sends Partner webhooks (default http://127.0.0.1:8491/partner/webhooks)
//	ACQUIRER_PARTNER_WEBHOOK_SECRET their signing secret (default whsec_contract_suite)
//	KLARNA_MOCK_URL                 the klarna-mock (empty: one in process per scenario)
//	ACQUIRER_KLARNA_API_KEY         the Acquiring Partner's key at the mock: the scenarios' tenant there
//	KLARNA_MOCK_API_KEY             the same, when ACQUIRER_KLARNA_API_KEY is not set
//	ACQUIRER_KLARNA_ACCOUNT_ID      the Acquiring Partner's partner account
//	KLARNA_PARTNER_API_KEY          the Partner's own key for direct Klarna calls (default: the Acquiring Partner's)
//	CONTRACT_WAIT_TIMEOUT           how long to wait for webhooks (Go duration, default 10s)
//	CONTRACT_LOG                    log level of the systems the suite starts, on stderr (debug, info, ...)
//
// The ACQUIRER_* names are those cmd/acquirer reads, so one environment configures both.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		AcquirerURL:              strings.TrimRight(getenv("ACQUIRER_URL"), "/"),
		AcquirerKlarnaWebhookURL: getenv("ACQUIRER_KLARNA_WEBHOOK_URL"),
		PartnerAPIKey:            getenv("ACQUIRER_PARTNER_KEY"),
		PartnerKeyPrefix:         getenv("ACQUIRER_PARTNER_KEY_PREFIX"),
		OtherPartnerAPIKey:       getenv("ACQUIRER_OTHER_PARTNER_KEY"),
		PartnerWebhookURL:        getenv("ACQUIRER_PARTNER_WEBHOOK_URL"),
		PartnerWebhookSecret:     getenv("ACQUIRER_PARTNER_WEBHOOK_SECRET"),
		KlarnaMockURL:            strings.TrimRight(getenv("KLARNA_MOCK_URL"), "/"),
		KlarnaAPIKey:             cmp.Or(getenv("ACQUIRER_KLARNA_API_KEY"), getenv("KLARNA_MOCK_API_KEY")),
		KlarnaAccountID:          getenv("ACQUIRER_KLARNA_ACCOUNT_ID"),
		PartnerKlarnaAPIKey:      getenv("KLARNA_PARTNER_API_KEY"),
	}
	if v := getenv("CONTRACT_LOG"); v != "" {
		var level slog.Level
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return c, fmt.Errorf("CONTRACT_LOG=%q is not a log level (debug, info, warn, error)", v)
		}
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	}
	if v := getenv("CONTRACT_WAIT_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("CONTRACT_WAIT_TIMEOUT=%q is not a positive Go duration such as 15s", v)
		}
		c.WaitTimeout = d
	}
	return c, nil
}

// withDefaults fills in what the chosen setup implies and checks the combination.
func (c Config) withDefaults() (Config, error) {
	if c.WaitTimeout <= 0 {
		c.WaitTimeout = DefaultWaitTimeout
	}
	if c.Report == nil {
		c.Report = os.Stdout
	}
	if c.PartnerAPIKey == "" && c.PartnerKeyPrefix == "" {
		c.PartnerKeyPrefix = DefaultPartnerKeyPrefix
	}
	if c.AcquirerURL == "" {
		if c.WrapAcquirerKlarnaTransport == nil {
			c.WrapAcquirerKlarnaTransport = func(rt http.RoundTripper) http.RoundTripper { return rt }
		}
		if c.KlarnaMockURL != "" && c.KlarnaAccountID == "" {
			c.KlarnaAccountID = "krn:partner:global:account:test:CONTRACT"
		}
		return c, nil
	}
	if c.KlarnaMockURL == "" {
		return c, errors.New("ACQUIRER_URL needs KLARNA_MOCK_URL: an Acquiring Partner started elsewhere must already be configured with the klarna-mock it talks to")
	}
	if c.WrapAcquirerKlarnaTransport != nil {
		return c, errors.New("WrapAcquirerKlarnaTransport works only on the in-process reference Acquiring Partner, not with ACQUIRER_URL")
	}
	if _, err := url.Parse(c.AcquirerURL); err != nil {
		return c, fmt.Errorf("ACQUIRER_URL: %w", err)
	}
	if c.AcquirerKlarnaWebhookURL == "" {
		c.AcquirerKlarnaWebhookURL = c.AcquirerURL + "/klarna/webhooks"
	}
	if c.KlarnaAPIKey == "" {
		c.KlarnaAPIKey = DefaultAcquirerKlarnaAPIKey
	}
	if c.KlarnaAccountID == "" {
		c.KlarnaAccountID = DefaultAcquirerKlarnaAccountID
	}
	if c.PartnerWebhookURL == "" {
		c.PartnerWebhookURL = DefaultPartnerWebhookURL
	}
	if c.PartnerWebhookSecret == "" {
		c.PartnerWebhookSecret = DefaultPartnerWebhookSecret
	}
	u, err := url.Parse(c.PartnerWebhookURL)
	if err != nil || u.Host == "" {
		return c, fmt.Errorf("ACQUIRER_PARTNER_WEBHOOK_URL=%q is not an http URL the suite can listen on", c.PartnerWebhookURL)
	}
	return c, nil
}

// InProcessAcquirer reports whether the suite starts the reference Acquiring Partner itself.
func (c Config) InProcessAcquirer() bool { return c.AcquirerURL == "" }

// SharedTenant reports whether every scenario is the same tenant of a shared mock: a mock the
// suite did not start, with a fixed KlarnaAPIKey (always so for an Acquiring Partner started
// elsewhere). The scenarios then share one clock at the mock, and a move made by one would move
// the others' payments: they must run one at a time, and nothing else should use that key
// meanwhile. With a fresh key per scenario, each scenario's moves are its own.
func (c Config) SharedTenant() bool { return c.KlarnaMockURL != "" && c.KlarnaAPIKey != "" }
