package features_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cucumber/godog"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/features"
	"github.com/klarna-mock/klarna-mock/features/steps"
)

// Deliberately broken Acquiring Partners: the reference one with its calls to Klarna mutated on
// the wire (steps.Config.WrapAcquirerKlarnaTransport wraps the transport of its Klarna client).
// The suite must fail against each, and every failure must name the rule broken.

// authorizeRewriter hands every authorize the Acquiring Partner sends Klarna to rewrite, which
// may change its header and body, or answer it itself (a non-nil response: the request never
// reaches Klarna).
type authorizeRewriter struct {
	base    http.RoundTripper
	rewrite func(req *http.Request, body map[string]any) *http.Response
}

func (rt *authorizeRewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/payment/authorize") || req.Body == nil {
		return rt.base.RoundTrip(req)
	}
	raw, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	if resp := rt.rewrite(req, body); resp != nil {
		resp.Request = req
		return resp, nil
	}
	if raw, err = json.Marshal(body); err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(raw))
	req.ContentLength = int64(len(raw))
	return rt.base.RoundTrip(req)
}

func rewriting(rewrite func(*http.Request, map[string]any) *http.Response) func(http.RoundTripper) http.RoundTripper {
	return func(base http.RoundTripper) http.RoundTripper {
		return &authorizeRewriter{base: base, rewrite: rewrite}
	}
}

// normalize re-encodes a JSON text compactly, as an Acquiring Partner that parses the Partner's
// Klarna Network data into a struct and serializes it again would.
func normalize(s string) string {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s + " "
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// altersNetworkData "tidies" the Klarna Network data before forwarding it, wherever it travels.
var altersNetworkData = rewriting(func(req *http.Request, body map[string]any) *http.Response {
	for _, name := range []string{"klarna_network_data", "interoperability_data"} {
		if s, ok := body[name].(string); ok {
			body[name] = normalize(s)
		}
	}
	if h := req.Header.Get("Klarna-Interoperability-Data"); h != "" {
		req.Header.Set("Klarna-Interoperability-Data", normalize(h))
	}
	return nil
})

// dropsStepUpForPresentCustomer sends one-click charges as if the customer were not there: the
// token charge loses its step_up_config.
var dropsStepUpForPresentCustomer = rewriting(func(req *http.Request, body map[string]any) *http.Response {
	if req.Header.Get("Klarna-Customer-Token") != "" {
		delete(body, "step_up_config")
	}
	return nil
})

// skipsFinalAuthorize never sends the final authorize: it takes the completed Purchase Journey
// for the payment and makes up Klarna's approval.
var skipsFinalAuthorize = rewriting(func(req *http.Request, body map[string]any) *http.Response {
	if _, stepUp := body["step_up_config"]; stepUp || req.Header.Get("Klarna-Network-Session-Token") == "" || req.Header.Get("Klarna-Customer-Token") != "" {
		return nil
	}
	answer := map[string]any{}
	if tr, ok := body["request_payment_transaction"].(map[string]any); ok {
		answer["payment_transaction_response"] = map[string]any{
			"result": "APPROVED",
			"payment_transaction": map[string]any{
				"payment_transaction_id": "krn:payment:eu1:transaction:" + uuid.NewString(),
				"amount":                 tr["amount"], "currency": body["currency"], "state": "AUTHORIZED",
				"created_at": time.Now().UTC().Format(time.RFC3339),
			},
		}
	}
	b, _ := json.Marshal(answer)
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(b)), ContentLength: int64(len(b)),
	}
})

// dropsIdempotencyKeys sends Klarna its POSTs without Klarna-Idempotency-Key.
var dropsIdempotencyKeys = rewriting(func(req *http.Request, _ map[string]any) *http.Response {
	req.Header.Del("Klarna-Idempotency-Key")
	return nil
})

// newKeyPerAttempt sends every attempt of an authorize under a fresh Klarna-Idempotency-Key, so
// Klarna cannot tell a retry from a new payment.
var newKeyPerAttempt = rewriting(func(req *http.Request, _ map[string]any) *http.Response {
	req.Header.Set("Klarna-Idempotency-Key", uuid.NewString())
	return nil
})

// addsUndocumentedField sends every authorize with a field of its own, which Klarna's API
// reference does not document.
var addsUndocumentedField = rewriting(func(_ *http.Request, body map[string]any) *http.Response {
	body["acquirer_order_id"] = "ap-internal-1"
	return nil
})

// roundTripperFunc is a function serving as an http.RoundTripper.
type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// ignoresRetryAfter retries a rate-limited call after its usual back-off, as if Klarna had asked
// for no wait.
func ignoresRetryAfter(base http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(req)
		if err == nil {
			resp.Header.Del("Retry-After")
		}
		return resp, err
	})
}

// cucumberReport is the part of godog's cucumber JSON the test reads.
type cucumberReport []struct {
	Elements []struct {
		Name  string `json:"name"`
		Steps []struct {
			Name   string `json:"name"`
			Result struct {
				Status string `json:"status"`
				Error  string `json:"error_message"`
			} `json:"result"`
		} `json:"steps"`
	} `json:"elements"`
}

func TestBrokenAcquiringPartnersFailTheSuite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// tags selects the scenarios that exercise the duty.
		tags string
		wrap func(http.RoundTripper) http.RoundTripper
		rule steps.Rule
	}{
		{"alters the interoperability data", "@interoperability", altersNetworkData, steps.RuleNetworkDataUnaltered},
		{"drops step_up_config for a present customer", "@customer-present", dropsStepUpForPresentCustomer, steps.RuleStepUpWhenPresent},
		{"never performs the final authorize", "@step-up", skipsFinalAuthorize, steps.RuleFinalAuthorize},
		{"sends no idempotency keys", "@subscription", dropsIdempotencyKeys, steps.RuleIdempotencyKey},
		{"retries under a new idempotency key", "@answer-lost", newKeyPerAttempt, steps.RuleRetrySameKey},
		{"ignores Retry-After", "@rate-limit", ignoresRetryAfter, steps.RuleHonourRetryAfter},
		{"sends a field Klarna does not document", "@subscription", addsUndocumentedField, steps.RuleDocumentedFields},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := steps.New(steps.Config{WrapAcquirerKlarnaTransport: tc.wrap, WaitTimeout: 5 * time.Second})
			require.NoError(t, err)
			var out bytes.Buffer
			status := godog.TestSuite{
				Name:                 "broken acquirer: " + tc.name,
				TestSuiteInitializer: s.InitializeTestSuite,
				ScenarioInitializer:  s.InitializeScenario,
				Options: &godog.Options{
					Format: "cucumber", Output: &out, Tags: tc.tags, Concurrency: 4, Randomize: -1, Strict: true,
					FS: features.Files, Paths: []string{"."},
				},
			}.Run()
			require.NotZero(t, status, "the suite passed against an Acquiring Partner that %s", tc.name)

			var report cucumberReport
			require.NoError(t, json.Unmarshal(out.Bytes(), &report), "%s", out.String())
			var failures []string
			for _, f := range report {
				for _, sc := range f.Elements {
					for _, st := range sc.Steps {
						if st.Result.Status != "failed" {
							continue
						}
						failures = append(failures, fmt.Sprintf("%s / %s:\n%s", sc.Name, st.Name, st.Result.Error))
						require.Contains(t, st.Result.Error, tc.rule.Text,
							"scenario %q failed against an Acquiring Partner that %s, but not by naming the broken rule", sc.Name, tc.name)
						require.Contains(t, st.Result.Error, "broken rule ["+tc.rule.ID+"]")
					}
				}
			}
			require.NotEmpty(t, failures)
			t.Logf("%d scenarios fail against an Acquiring Partner that %s:\n\n%s", len(failures), tc.name, strings.Join(failures, "\n\n"))
		})
	}
}
