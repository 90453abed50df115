package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseStatusKiB(t *testing.T) {
	t.Parallel()
	status := []byte("Name:\tklarna-mock\nVmHWM:\t   40128 kB\nVmRSS:\t   39012 kB\n")
	got, err := parseStatusKiB(status, "VmRSS")
	require.NoError(t, err)
	require.Equal(t, int64(39012), got)
	got, err = parseStatusKiB(status, "VmHWM")
	require.NoError(t, err)
	require.Equal(t, int64(40128), got)
	_, err = parseStatusKiB(status, "VmSwap")
	require.Error(t, err)
}

func TestClassify(t *testing.T) {
	t.Parallel()
	require.Equal(t, "200", classify(200, []byte(`{"payment_transaction_response":{}}`)))
	require.Equal(t, "429 QUOTA_EXCEEDED", classify(429, []byte(`{"error_code":"QUOTA_EXCEEDED","error_message":"..."}`)))
	require.Equal(t, "502", classify(502, []byte("bad gateway")))
}

func TestListenURL(t *testing.T) {
	t.Parallel()
	got, err := listenURL("klarna-mock listening on http://127.0.0.1:40581\n")
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:40581", got)
	_, err = listenURL("klarna-mock listening on http://0.0.0.0:8480\n")
	require.Error(t, err, "only loopback may be loaded")
	_, err = listenURL("panic: something\n")
	require.Error(t, err)
}

func TestCountsString(t *testing.T) {
	t.Parallel()
	c := counts{"200": 5000, "429 QUOTA_EXCEEDED": 95000, "transport error": 1}
	require.Equal(t, "95000 × 429 QUOTA_EXCEEDED, 5000 × 200, 1 × transport error", c.String())
}

func TestTenantA(t *testing.T) {
	t.Parallel()
	one := config{keyA: "klarna_test_api_A", aTenants: 1}
	require.Equal(t, "klarna_test_api_A", one.tenantA(7))
	three := config{keyA: "klarna_test_api_A", aTenants: 3}
	require.Equal(t, []string{"klarna_test_api_A_2", "klarna_test_api_A_3", "klarna_test_api_A_1"},
		[]string{three.tenantA(1), three.tenantA(2), three.tenantA(3)})
}

func TestCheck(t *testing.T) {
	t.Parallel()
	cfg := config{maxRSSMiB: 128}
	full := aResult{sent: 3, counts: counts{"200": 1, "429 QUOTA_EXCEEDED": 2}}
	served := bResult{sent: 5}
	require.Empty(t, check(cfg, full, served, 40<<10))
	require.Len(t, check(cfg, full, served, 129<<10), 1, "over the RSS limit")
	require.Len(t, check(cfg, full, bResult{sent: 5, failed: 1, lastFailure: "429 QUOTA_EXCEEDED"}, 40<<10), 1, "B refused")
	require.Len(t, check(cfg, full, bResult{}, 40<<10), 1, "B never measured")
	require.Len(t, check(cfg, aResult{sent: 1, counts: counts{"500 INTERNAL_ERROR": 1}}, served, 40<<10), 1, "A got a 500")
}

func TestLatencySummary(t *testing.T) {
	t.Parallel()
	require.Equal(t, "none measured", latencySummary(nil))
	require.Equal(t, "median 2.0 ms, p99 3.0 ms, max 3.0 ms",
		latencySummary([]time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond}))
}

func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	stat := []byte("4242 (klarna mock) S 1 4242 4242 0 -1 4194560 2630 0 0 0 1234 567 0 0 20 0 9 0 1000 800000000 9000 18446744073709551615\n")
	require.InDelta(t, 18.01, parseStatCPU(stat), 1e-9)
	require.Equal(t, -1.0, parseStatCPU([]byte("garbage")))
}
