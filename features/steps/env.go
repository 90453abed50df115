package steps

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/klarna-mock/klarna-mock/internal/httpserver"
	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	apapp "github.com/klarna-mock/klarna-mock/reference-impl/app"
	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
	"github.com/klarna-mock/klarna-mock/reference-impl/partnerhook"
	"github.com/klarna-mock/klarna-mock/testkit"
)

// suiteUserAgent marks the suite's own calls to Klarna's API (the Partner's direct calls, the
// customer's journey), so the journal tells them from the Acquiring Partner's.
const suiteUserAgent = "klarna-mock-contract-suite"

// returnURL is where the Partner wants the customer back after the Purchase Journey.
const returnURL = "https://partner.example/checkout/return?pr={klarna.payment_request.id}"

// env is the systems one scenario runs against.
type env struct {
	cfg Config
	// acquirerURL serves the Partner API; klarnaWebhookURL is the Acquiring Partner's Klarna
	// webhook listener.
	acquirerURL      string
	klarnaWebhookURL string
	client           *http.Client
	partnerKey       string
	otherPartnerKey  string // "" when the setup has no second Partner
	inbox            *inbox
	// klarna acts on the mock as the scenario's tenant: the Acquiring Partner's key, apKlarnaKey,
	// whose journal, Payment Requests and clock the scenario reads and moves; account is the
	// Acquiring Partner's partner account there, partnerKlarnaKey the Partner's own key.
	klarna           *testkit.Control
	apKlarnaKey      string
	account          string
	partnerKlarnaKey string
	// isolated reports that the journal holds nothing but this scenario's calls; since is the
	// journal's sequence number before the scenario began (0 when isolated).
	isolated bool
	since    uint64
	// ownTenant reports that apKlarnaKey is a key made up for this scenario at a mock the suite
	// did not start: close resets that tenant there, so that the scenario leaves nothing behind
	// on a long-lived mock, nor a tenant counting against its --max-tenants.
	ownTenant bool

	// In process only: the door in front of the Acquiring Partner (Klarna's webhooks pass it)
	// and the wire between the Acquiring Partner and Klarna.
	front  *frontDoor
	faults *faultTransport

	closers []func()

	// klarnaWebhookID is the webhook the in-process Acquiring Partner registered at a shared
	// mock; "" when the mock's start-up webhook serves it, or it runs elsewhere.
	klarnaWebhookID string
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// close stops what the scenario started, newest first, then resets the scenario's own tenant at
// a shared mock (ownTenant): by then nothing of the scenario calls the mock any more.
func (e *env) close() error {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
	if !e.ownTenant {
		return nil
	}
	e.ownTenant = false
	if _, err := e.klarna.Reset(); err != nil {
		return fmt.Errorf("resetting the scenario's tenant at the klarna-mock: %w", err)
	}
	return nil
}

// startEnv starts (or connects to) the systems of one scenario.
func startEnv(cfg Config, shared *inbox) (*env, error) {
	e := &env{cfg: cfg, client: &http.Client{Timeout: 30 * time.Second}}
	if cfg.PartnerAPIKey != "" {
		e.partnerKey = cfg.PartnerAPIKey
	} else {
		e.partnerKey = cfg.PartnerKeyPrefix + randomHex(8)
	}
	switch {
	case cfg.OtherPartnerAPIKey != "":
		e.otherPartnerKey = cfg.OtherPartnerAPIKey
	case cfg.PartnerKeyPrefix != "":
		e.otherPartnerKey = cfg.PartnerKeyPrefix + randomHex(8)
	}
	if !cfg.InProcessAcquirer() {
		e.acquirerURL, e.klarnaWebhookURL = cfg.AcquirerURL, cfg.AcquirerKlarnaWebhookURL
		e.inbox = shared
		// The Acquiring Partner's own fixed key: its tenant is the one whose clock the
		// scenario moves (Config.SharedTenant).
		e.apKlarnaKey, e.account = cfg.KlarnaAPIKey, cfg.KlarnaAccountID
		e.partnerKlarnaKey = or(cfg.PartnerKlarnaAPIKey, e.apKlarnaKey)
		e.klarna = e.control(cfg.KlarnaMockURL)
	} else if err := e.startInProcess(); err != nil {
		_ = e.close()
		return nil, err
	}
	if !e.isolated {
		var err error
		if e.since, err = e.journalHead(); err != nil {
			_ = e.close()
			return nil, err
		}
	}
	return e, nil
}

// startInProcess starts a Partner double, the reference Acquiring Partner and, unless one is
// configured, a klarna-mock on a manual clock.
func (e *env) startInProcess() error {
	cfg := e.cfg
	partnerSecret := "whsec_" + randomHex(16)
	e.inbox = newInbox(partnerSecret)
	partnerSrv := httptest.NewServer(e.inbox)
	e.closers = append(e.closers, partnerSrv.Close)

	// The Acquiring Partner's door exists before the Acquiring Partner: the mock needs its URL.
	e.front = &frontDoor{ready: make(chan struct{})}
	frontSrv := httptest.NewServer(e.front)
	e.closers = append(e.closers, func() { e.front.open(); frontSrv.Close() })
	e.acquirerURL, e.klarnaWebhookURL = frontSrv.URL, frontSrv.URL+"/klarna/webhooks"

	klarnaSecret := ""
	if cfg.KlarnaMockURL == "" {
		// A fresh mock: the Acquiring Partner's and the Partner's keys share one partner
		// account, so a token minted by the Partner's Klarna SDK works for the Acquiring Partner.
		e.account = "krn:partner:global:account:test:" + strings.ToUpper(randomHex(4))
		e.apKlarnaKey, e.partnerKlarnaKey = "klarna_test_api_ap_"+randomHex(8), "klarna_test_api_partner_"+randomHex(8)
		klarnaSecret = randomHex(32)
		opts := []testkit.Option{
			testkit.WithManualClock(time.Now().UTC().Truncate(time.Second)),
			testkit.WithWebhook(e.klarnaWebhookURL, klarnaSecret),
			testkit.WithAccounts([]byte(fmt.Sprintf("accounts:\n  - {api_key: %s, partner_account_id: %q}\n  - {api_key: %s, partner_account_id: %q}\n",
				e.apKlarnaKey, e.account, e.partnerKlarnaKey, e.account))),
		}
		if cfg.Logger != nil {
			opts = append(opts, testkit.WithLogger(cfg.Logger.With("system", "klarna-mock")))
		}
		m, err := testkit.Start(opts...)
		if err != nil {
			return err
		}
		e.closers = append(e.closers, m.Close)
		e.klarna = e.control(m.URL)
		e.isolated = true
	} else {
		// A shared mock: a fresh key per scenario is a tenant of its own, with a state, a
		// journal and a clock no other scenario or user of the mock sees or moves.
		e.account = cfg.KlarnaAccountID
		e.apKlarnaKey = cfg.KlarnaAPIKey
		if e.apKlarnaKey == "" {
			e.apKlarnaKey, e.isolated, e.ownTenant = "klarna_test_api_contract_"+randomHex(8), true, true
		}
		e.partnerKlarnaKey = or(cfg.PartnerKlarnaAPIKey, e.apKlarnaKey)
		e.klarna = e.control(cfg.KlarnaMockURL)
	}

	e.faults = &faultTransport{base: http.DefaultTransport}
	acfg := apapp.Config{
		Klarna: klarna.Config{
			BaseURL: e.klarna.URL, APIKey: e.apKlarnaKey, AccountID: e.account,
			HTTPClient: &http.Client{Transport: cfg.WrapAcquirerKlarnaTransport(e.faults)},
			Retry: klarna.RetryPolicy{InitialBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Deadline: 5 * time.Second,
				AttemptTimeout: suiteAttemptTimeout},
		},
		KlarnaWebhookSecret: klarnaSecret,
		TestMode:            &acquirer.TestMode{WebhookURL: partnerSrv.URL, WebhookSecret: partnerSecret},
		PartnerWebhooks:     partnerhook.Config{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond},
		Logger:              cfg.Logger,
	}
	if acfg.Logger != nil {
		acfg.Logger = acfg.Logger.With("system", "acquirer")
	}
	a, err := apapp.New(acfg)
	if err != nil {
		return err
	}
	e.closers = append(e.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Close(ctx)
	})
	e.front.setHandler(a.Handler)
	if klarnaSecret == "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		wh, err := a.RegisterKlarnaWebhook(ctx, e.klarnaWebhookURL)
		if err != nil {
			return err
		}
		e.klarnaWebhookID = wh.WebhookID
	}
	return nil
}

// control returns the client of the mock at url acting as the scenario's tenant.
func (e *env) control(url string) *testkit.Control {
	return &testkit.Control{URL: url, APIKey: e.apKlarnaKey, UserAgent: suiteUserAgent}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// klarnaDelivery is a webhook Klarna posted to the Acquiring Partner.
type klarnaDelivery struct {
	header http.Header
	body   []byte
	// status is what the Acquiring Partner answered; 0 when the door turned it away.
	status int
}

// frontDoor stands between the world and the in-process Acquiring Partner. It records Klarna's
// webhooks, and can turn them away as if the Acquiring Partner were unreachable.
type frontDoor struct {
	ready   chan struct{}
	once    sync.Once
	handler http.Handler

	mu         sync.Mutex
	outage     bool
	deliveries []*klarnaDelivery
}

// forgedHeader marks webhooks the suite itself posts: the door passes them unrecorded.
const forgedHeader = "X-Contract-Suite-Forged"

func (f *frontDoor) setHandler(h http.Handler) {
	f.handler = h
	f.open()
}

func (f *frontDoor) open() { f.once.Do(func() { close(f.ready) }) }

func (f *frontDoor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	<-f.ready
	if f.handler == nil {
		http.Error(w, "the acquirer did not start", http.StatusServiceUnavailable)
		return
	}
	if r.URL.Path != "/klarna/webhooks" || r.Header.Get(forgedHeader) != "" {
		f.handler.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	d := &klarnaDelivery{header: r.Header.Clone(), body: body}
	f.mu.Lock()
	f.deliveries = append(f.deliveries, d)
	outage := f.outage
	f.mu.Unlock()
	if outage {
		http.Error(w, "the acquirer cannot be reached", http.StatusServiceUnavailable)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sw := httpserver.NewStatusWriter(w)
	f.handler.ServeHTTP(sw, r)
	f.mu.Lock()
	d.status = sw.Status
	f.mu.Unlock()
}

func (f *frontDoor) setOutage(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.outage = on
}

// passed returns the Klarna webhooks the Acquiring Partner took (2xx) whose body contains all of
// the texts.
func (f *frontDoor) passed(texts ...string) []*klarnaDelivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*klarnaDelivery
	for _, d := range f.deliveries {
		if d.status < 200 || d.status > 299 {
			continue
		}
		all := true
		for _, t := range texts {
			all = all && bytes.Contains(d.body, []byte(t))
		}
		if all {
			out = append(out, d)
		}
	}
	return out
}

// faultTransport is the wire between the in-process Acquiring Partner and Klarna. It can lose
// Klarna's answer to an authorize after Klarna processed it, as a dropped connection would.
type faultTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	lose int
}

func (t *faultTransport) loseNextAuthorizeAnswers(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lose = n
}

func (t *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/payment/authorize") {
		return resp, err
	}
	t.mu.Lock()
	lose := t.lose > 0
	if lose {
		t.lose--
	}
	t.mu.Unlock()
	if !lose {
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return nil, errors.New("contract suite: the connection dropped before Klarna's answer arrived")
}
