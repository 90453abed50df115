package features_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cucumber/godog"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/features/steps"
	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	apapp "github.com/klarna-mock/klarna-mock/reference-impl/app"
	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
	"github.com/klarna-mock/klarna-mock/reference-impl/partnerhook"
	"github.com/klarna-mock/klarna-mock/testkit"
)

// The @resilience scenarios where Klarna is a mock shared with others: their faults are their
// tenant's alone, so scenarios that make every authorize fail run beside scenarios that need
// authorizes to succeed.

// faultsOf returns the faults the mock holds for apiKey's tenant.
func faultsOf(t *testing.T, c *testkit.Control, apiKey string) []map[string]any {
	t.Helper()
	var out struct {
		Faults []map[string]any `json:"faults"`
	}
	require.NoError(t, c.Do(http.MethodGet, "/mock/v1/faults", apiKey, nil, &out))
	return out.Faults
}

func TestResilienceScenariosOnASharedMock(t *testing.T) {
	t.Parallel()
	shared := testkit.NewMock(t, testkit.WithManualClock(time.Now().UTC().Truncate(time.Second)))
	var report bytes.Buffer
	s, err := steps.New(steps.Config{KlarnaMockURL: shared.URL, WaitTimeout: 5 * time.Second, Report: &report})
	require.NoError(t, err)
	tenants := shared.App.Tenants()

	var out bytes.Buffer
	require.Zero(t, runFeatures(s, "@resilience", &out), "%s", out.String())
	require.Empty(t, report.String(), "nothing was skipped: the in-process Acquiring Partner's own webhook takes the hostile deliveries")
	require.Equal(t, tenants, shared.App.Tenants(), "every scenario's tenant, faults and all, was reset")
}

// externalAcquirer starts the reference Acquiring Partner as one the suite did not start: with a
// Klarna key and partner account of its own at mock, the retry policy retry, and a webhook it
// registered there itself. It returns the suite's configuration for it, reporting to report.
func externalAcquirer(t *testing.T, mock *testkit.Mock, retry klarna.RetryPolicy, report io.Writer) steps.Config {
	t.Helper()
	const account = "krn:partner:global:account:test:EXTERNAL"
	klarnaKey := "klarna_test_api_external_" + uuid.NewString()[:8]
	partnerHooks := "http://" + freeAddr(t) + "/partner/webhooks"
	const partnerSecret = "whsec_external"
	a, err := apapp.New(apapp.Config{
		Klarna:          klarna.Config{BaseURL: mock.URL, APIKey: klarnaKey, AccountID: account, Retry: retry},
		TestMode:        &acquirer.TestMode{WebhookURL: partnerHooks, WebhookSecret: partnerSecret},
		PartnerWebhooks: partnerhook.Config{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	acq := httptest.NewServer(a.Handler)
	t.Cleanup(acq.Close)
	_, err = a.RegisterKlarnaWebhook(t.Context(), acq.URL+"/klarna/webhooks")
	require.NoError(t, err)
	return steps.Config{
		AcquirerURL: acq.URL, KlarnaMockURL: mock.URL, KlarnaAPIKey: klarnaKey, KlarnaAccountID: account,
		PartnerWebhookURL: partnerHooks, PartnerWebhookSecret: partnerSecret, WaitTimeout: 5 * time.Second, Report: report,
	}
}

func TestResilienceScenariosAgainstAnExternalAcquirer(t *testing.T) {
	t.Parallel()
	mock := testkit.NewMock(t)
	var out bytes.Buffer
	// Retries short enough for a test: the suite knows nothing of them, so the mock holds an
	// authorize it hangs as long as it can.
	cfg := externalAcquirer(t, mock, klarna.RetryPolicy{InitialBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		AttemptTimeout: 500 * time.Millisecond, Deadline: 3 * time.Second}, &out)
	s, err := steps.New(cfg)
	require.NoError(t, err)
	status := runFeatures(s, "@resilience", &out)
	got := out.String()
	require.Zero(t, status, "skipped scenarios are no failure, and the rest pass: %s", got)

	// The Acquiring Partner registered its own webhook, which the suite cannot name at the mock.
	require.Contains(t, got, "3 scenarios skipped: this setup cannot run them")
	for _, name := range []string{"Klarna delivers the completion twice in a row", "An earlier webhook arrives after the completion",
		"A completion Klarna did not sign is refused"} {
		require.Contains(t, got, "resilience.feature: "+name+"\n      skipped: the suite cannot tell which webhook at the klarna-mock is the Acquiring Partner's")
	}
	require.Equal(t, 1, strings.Count(got, "Klarna stops answering: the Partner is told in time"), "the timeout scenarios ran")
	require.Empty(t, faultsOf(t, mock.ForKey(cfg.KlarnaAPIKey), cfg.KlarnaAPIKey), "the scenarios removed their faults from the fixed tenant")
}

// TestAFaultLeftByAFailedScenarioIsRemoved checks that a scenario failing while Klarna is
// unavailable still removes its fault from a tenant it does not reset.
func TestAFaultLeftByAFailedScenarioIsRemoved(t *testing.T) {
	t.Parallel()
	mock := testkit.NewMock(t)
	cfg := externalAcquirer(t, mock, klarna.RetryPolicy{InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}, io.Discard)
	s, err := steps.New(cfg)
	require.NoError(t, err)
	var out bytes.Buffer
	status := runFeatureText(s, `Feature: Klarna stays away
  Scenario: The Partner expects an answer Klarna cannot give
    Given a Partner selling through the Acquiring Partner
    And Klarna answers every authorize with 503
    When the Partner opens a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR
    Then the Partner is asked to send the customer to Klarna's Purchase Journey
`, &out)
	require.NotZero(t, status, "%s", out.String())
	require.Contains(t, out.String(), "KLARNA_UNAVAILABLE")
	require.Empty(t, faultsOf(t, mock.ForKey(cfg.KlarnaAPIKey), cfg.KlarnaAPIKey), "the failed scenario's fault is gone")
}

// runFeatureText runs the one feature text with s and returns godog's status.
func runFeatureText(s *steps.Suite, feature string, out io.Writer) int {
	return godog.TestSuite{
		TestSuiteInitializer: s.InitializeTestSuite,
		ScenarioInitializer:  s.InitializeScenario,
		Options: &godog.Options{
			Format: "pretty", Output: out, NoColors: true, Strict: true, Concurrency: 1,
			FeatureContents: []godog.Feature{{Name: "inline.feature", Contents: []byte(feature)}},
		},
	}.Run()
}
