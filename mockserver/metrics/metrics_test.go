package metrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/metrics"
)

func TestOperationCountsByStatusAndTimes(t *testing.T) {
	t.Parallel()
	m := metrics.New("v1.2.3")
	op := m.Operation("authorizePayment")
	op.Observe(http.StatusOK, time.Millisecond)
	op.Observe(http.StatusOK, 2*time.Millisecond)
	op.Observe(http.StatusBadRequest, time.Millisecond)

	require.NoError(t, testutil.GatherAndCompare(m.Registry(), strings.NewReader(`
# HELP klarna_mock_http_requests_total HTTP requests answered, by operation (the route's operationId) and status code.
# TYPE klarna_mock_http_requests_total counter
klarna_mock_http_requests_total{operation="authorizePayment",status="200"} 2
klarna_mock_http_requests_total{operation="authorizePayment",status="400"} 1
`), metrics.NameRequests))
	count, err := testutil.GatherAndCount(m.Registry(), metrics.NameRequestDuration)
	require.NoError(t, err)
	require.Equal(t, 1, count, "one histogram per operation, whatever the status")
	require.NoError(t, testutil.GatherAndCompare(m.Registry(), strings.NewReader(`
# HELP klarna_mock_build_info Always 1; its version label is the mock's version, as /readyz and klarna-mock --version report it.
# TYPE klarna_mock_build_info gauge
klarna_mock_build_info{version="v1.2.3"} 1
`), metrics.NameBuildInfo))
}

func TestAuthorizedCapsRuleLabels(t *testing.T) {
	t.Parallel()
	m := metrics.New("test")
	for i := range metrics.MaxRuleLabels + 50 {
		m.Authorized("APPROVED", fmt.Sprintf("rule %d", i))
	}
	m.Authorized("DECLINED", "rule 0")
	m.Authorized("DECLINED", "rule 0")
	count, err := testutil.GatherAndCount(m.Registry(), metrics.NameAuthorize)
	require.NoError(t, err)
	require.Equal(t, metrics.MaxRuleLabels+2, count, "MaxRuleLabels rules, the rest as one, and one DECLINED")

	body := scrape(t, m)
	require.Contains(t, body, `klarna_mock_authorize_outcomes_total{result="APPROVED",rule="(other)"} 50`)
	require.Contains(t, body, `klarna_mock_authorize_outcomes_total{result="DECLINED",rule="rule 0"} 2`)
	m.Authorized("DECLINED", "rule 999")
	require.Contains(t, scrape(t, m), `klarna_mock_authorize_outcomes_total{result="DECLINED",rule="(other)"} 1`,
		"a rule beyond the cap is other for every result")
}

func TestDeliveries(t *testing.T) {
	t.Parallel()
	m := metrics.New("test")
	m.Delivery(metrics.DeliveryDelivered)
	m.Delivery(metrics.DeliveryRetry)
	m.Delivery(metrics.DeliveryRetry)
	m.Delivery("bogus")
	body := scrape(t, m)
	for _, want := range []string{
		`klarna_mock_webhook_deliveries_total{result="delivered"} 1`,
		`klarna_mock_webhook_deliveries_total{result="retry"} 2`,
		`klarna_mock_webhook_deliveries_total{result="failed"} 0`,
	} {
		require.Contains(t, body, want)
	}
	require.NotContains(t, body, "bogus")
}

func TestWatchReadsStateAtScrape(t *testing.T) {
	t.Parallel()
	m := metrics.New("test")
	tenants := 3
	require.NoError(t, m.Watch(metrics.Gauges{
		Tenants:       func() int { return tenants },
		QueueDepth:    func() int { return 7 },
		StoredObjects: func() map[string]int { return map[string]int{"payment_request": 2, "customer_token": 0} },
	}))
	tenants = 4
	body := scrape(t, m)
	for _, want := range []string{
		"klarna_mock_tenants 4",
		"klarna_mock_webhook_queue_depth 7",
		`klarna_mock_stored_objects{kind="payment_request"} 2`,
		`klarna_mock_stored_objects{kind="customer_token"} 0`,
	} {
		require.Contains(t, body, want)
	}
	require.Error(t, m.Watch(metrics.Gauges{Tenants: func() int { return 0 }}), "a gauge is registered once")
}

// TestNilMetricsRecordNothing checks that a package holding no metrics may call them anyway.
func TestNilMetricsRecordNothing(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	m.Operation("x").Observe(http.StatusOK, time.Second)
	m.Authorized("APPROVED", "r")
	m.Delivery(metrics.DeliveryFailed)
	m.FaultFired("authorize", "error")
	require.NoError(t, m.Watch(metrics.Gauges{}))
}

// TestRecordingAllocatesNothing checks that the request path's observations, once their label
// values were seen, allocate nothing.
func TestRecordingAllocatesNothing(t *testing.T) {
	m := metrics.New("test")
	op := m.Operation("authorizePayment")
	op.Observe(http.StatusOK, time.Millisecond)
	m.Authorized("APPROVED", "one-time")
	require.Zero(t, testing.AllocsPerRun(100, func() { op.Observe(http.StatusOK, time.Millisecond) }))
	require.Zero(t, testing.AllocsPerRun(100, func() { m.Authorized("APPROVED", "one-time") }))
	require.Zero(t, testing.AllocsPerRun(100, func() { m.Delivery(metrics.DeliveryDelivered) }))
	m.FaultFired("authorize", "error")
	require.Zero(t, testing.AllocsPerRun(100, func() { m.FaultFired("authorize", "error") }))
}

// TestConcurrentRecording runs the label caches from many goroutines, for the race detector.
func TestConcurrentRecording(t *testing.T) {
	t.Parallel()
	m := metrics.New("test")
	op := m.Operation("readPaymentRequest")
	done := make(chan struct{})
	for g := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 200 {
				op.Observe(200+i%5, time.Microsecond)
				m.Authorized("APPROVED", fmt.Sprintf("rule %d", (g+i)%10))
			}
		}()
	}
	for range 8 {
		<-done
	}
	require.Equal(t, 8*200.0, sumOf(t, m))
}

// sumOf is the total of the authorize outcomes.
func sumOf(t *testing.T, m *metrics.Metrics) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	require.NoError(t, err)
	total := 0.0
	for _, f := range families {
		if f.GetName() == metrics.NameAuthorize {
			for _, s := range f.GetMetric() {
				total += s.GetCounter().GetValue()
			}
		}
	}
	return total
}

// scrape serves the metrics over HTTP, as the mock does, and returns the text.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	return rec.Body.String()
}

// BenchmarkRecording shows what an authorize call's recording costs the request path: its
// request, latency and outcome. Run: go test -run '^$' -bench Recording -benchmem ./mockserver/metrics/
func BenchmarkRecording(b *testing.B) {
	m := metrics.New("bench")
	op := m.Operation("authorizePayment")
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		op.Observe(http.StatusOK, time.Since(start))
		m.Authorized("APPROVED", "one-time, identified customer")
	}
}

func TestFaultFiredCountsByOperationAndEffect(t *testing.T) {
	t.Parallel()
	m := metrics.New("test")
	m.FaultFired("authorize", "error")
	m.FaultFired("authorize", "error")
	m.FaultFired("transaction", "drop")
	body := scrape(t, m)
	require.Contains(t, body, `klarna_mock_faults_fired_total{effect="error",operation="authorize"} 2`)
	require.Contains(t, body, `klarna_mock_faults_fired_total{effect="drop",operation="transaction"} 1`)
}
