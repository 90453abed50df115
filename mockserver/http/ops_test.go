package http_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/app"
	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
	"github.com/klarna-mock/klarna-mock/mockserver/metrics"
)

// withReadyCheck adds a readiness check, as a mock on a database would add the database's.
func withReadyCheck(c mockhttp.ReadyCheck) option {
	return func(cfg *app.Config) { cfg.Ready = append(cfg.Ready, c) }
}

// TestHealthAndReadinessNeedNoKey checks that /healthz and /readyz answer without an API key
// (probes have none), report the version, and admit no tenant.
func TestHealthAndReadinessNeedNoKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withMaxTenants(1))
	anonymous := []string{"Authorization", ""}

	health := h.do(http.MethodGet, "/healthz", nil, anonymous...)
	require.Equal(t, http.StatusOK, health.status, health.body)
	require.Equal(t, "ok", health.str("status"))

	ready := h.do(http.MethodGet, "/readyz", nil, anonymous...)
	require.Equal(t, http.StatusOK, ready.status, ready.body)
	require.Equal(t, "ready", ready.str("status"))
	require.Equal(t, app.Version(), ready.str("version"))
	require.Equal(t, []any{
		map[string]any{"name": "contracts", "status": "ok"},
		map[string]any{"name": "store", "status": "ok"},
	}, ready.get("checks"))

	// Probing with a key admits nobody either: the one tenant this mock serves is still free.
	require.Equal(t, http.StatusOK, h.do(http.MethodGet, "/readyz", nil).status)
	require.Equal(t, http.StatusOK, h.do(http.MethodGet, "/mock/v1/clock", nil).status)
	require.Equal(t, 1, h.mock.Tenants())
}

// TestReadinessNamesTheFailingCheck checks that a failing readiness check makes /readyz a 503
// naming it, while /healthz, which checks nothing but the process, stays 200.
func TestReadinessNamesTheFailingCheck(t *testing.T) {
	t.Parallel()
	var deadline bool
	h := newHarness(t, withReadyCheck(mockhttp.ReadyCheck{Name: "database", Check: func(ctx context.Context) error {
		_, deadline = ctx.Deadline()
		return errors.New("connection refused")
	}}))
	r := h.do(http.MethodGet, "/readyz", nil, "Authorization", "")
	require.Equal(t, http.StatusServiceUnavailable, r.status, r.body)
	require.Equal(t, "not_ready", r.str("status"))
	require.Equal(t, map[string]any{"name": "database", "status": "failing", "error": "connection refused"}, r.get("checks.2"))
	require.Equal(t, "ok", r.str("checks.1.status"), "the store still answers")
	require.True(t, deadline, "a check gets a context with a deadline, so it cannot hang the probe")
	require.Equal(t, http.StatusOK, h.do(http.MethodGet, "/healthz", nil).status)
}

// TestMetricsMoveWithCalls scrapes /metrics after a few calls and checks that the counters moved:
// requests by operationId and status with their latency, authorize outcomes by result and
// deciding rule, webhook deliveries, tenants and stored objects.
func TestMetricsMoveWithCalls(t *testing.T) {
	t.Parallel()
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)
	h := newHarness(t, withStaticWebhook(receiver.URL, "s3cret"))
	other := h.withKey(newKey())

	before := scrape(t, h)
	require.Zero(t, value(before, metrics.NameTenants, nil))
	require.Zero(t, value(before, metrics.NameRequests, map[string]string{"operation": "authorizePayment", "status": "200"}))

	h.stepUp(oneTime(1000))
	declined := other.authorize(oneTime(13300))
	require.Equal(t, "DECLINED", declined.str("payment_transaction_response.result"), declined.body)
	require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, "/no/such/path", nil).status)

	// The step-up's event reaches the receiver in the background.
	var after map[string]*dto.MetricFamily
	require.Eventually(t, func() bool {
		after = scrape(t, h)
		return value(after, metrics.NameDeliveries, map[string]string{"result": metrics.DeliveryDelivered}) >= 1
	}, 10*time.Second, 10*time.Millisecond)

	require.Equal(t, 2.0, value(after, metrics.NameRequests, map[string]string{"operation": "authorizePayment", "status": "200"}))
	require.Equal(t, 1.0, value(after, metrics.NameRequests, map[string]string{"operation": "(unrouted)", "status": "404"}),
		"an unknown path is counted under one label, not its own")
	require.NotZero(t, value(after, metrics.NameRequests, map[string]string{"operation": "readMetrics", "status": "200"}))
	require.Equal(t, uint64(2), histogramCount(after, metrics.NameRequestDuration, map[string]string{"operation": "authorizePayment"}))
	require.Equal(t, 1.0, value(after, metrics.NameAuthorize, map[string]string{"result": "STEP_UP_REQUIRED", "rule": "one-time"}))
	require.Equal(t, 1.0, value(after, metrics.NameAuthorize, map[string]string{"result": "DECLINED", "rule": "decline amount 133.00"}))
	require.Equal(t, 2.0, value(after, metrics.NameTenants, nil))
	require.Equal(t, 1.0, value(after, metrics.NameStoredObjects, map[string]string{"kind": "payment_request"}))
	require.Zero(t, value(after, metrics.NameStoredObjects, map[string]string{"kind": "customer_token"}), "every kind is reported, held or not")
	require.Contains(t, after, metrics.NameQueueDepth)
	require.Equal(t, 1.0, value(after, metrics.NameBuildInfo, map[string]string{"version": app.Version()}))
	require.Contains(t, after, "go_goroutines", "the Go runtime's metrics are there too")
	for _, m := range after[metrics.NameRequests].GetMetric() {
		for _, l := range m.GetLabel() {
			require.False(t, l.GetName() == "operation" && strings.HasPrefix(l.GetValue(), "/"), "operation %q is a path", l.GetValue())
		}
	}
}

// TestMetricsArePerMock checks that two mocks count apart: each has a registry of its own.
func TestMetricsArePerMock(t *testing.T) {
	t.Parallel()
	busy, idle := newHarness(t), newHarness(t)
	busy.stepUp(oneTime(1000))
	labels := map[string]string{"result": "STEP_UP_REQUIRED", "rule": "one-time"}
	require.Equal(t, 1.0, value(scrape(t, busy), metrics.NameAuthorize, labels))
	require.Zero(t, value(scrape(t, idle), metrics.NameAuthorize, labels))
}

// scrape reads /metrics without a key, as Prometheus does, and parses it.
func scrape(t *testing.T, h *harness) map[string]*dto.MetricFamily {
	t.Helper()
	r := h.do(http.MethodGet, "/metrics", nil, "Authorization", "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "text/plain"), r.header.Get("Content-Type"))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(r.body))
	require.NoError(t, err)
	return families
}

// sample finds the sample of family name whose labels include labels, nil if none.
func sample(families map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	for _, m := range families[name].GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		matches := true
		for k, v := range labels {
			matches = matches && have[k] == v
		}
		if matches {
			return m
		}
	}
	return nil
}

// value is a counter's or gauge's value, 0 when the sample is absent.
func value(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	m := sample(families, name, labels)
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetGauge().GetValue()
}

// histogramCount is a histogram's number of observations, 0 when the sample is absent.
func histogramCount(families map[string]*dto.MetricFamily, name string, labels map[string]string) uint64 {
	return sample(families, name, labels).GetHistogram().GetSampleCount()
}
