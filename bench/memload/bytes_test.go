package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver/app"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

// BenchmarkStepUpBytes measures what the whole mock keeps for one step-up Payment Request of
// the typical body memload sends (two line items, a customer, a shipping address): n authorizes
// through the handler of app.New, as the binary serves them, then the live heap after a full
// collection minus before (after a first authorize, so that nothing done once is counted), per
// request. That is everything held for the request: the request and the initial authorize it
// keeps, the store's record, index and bookkeeping, its expiry timer, and the tenant's share of
// the journal.
// Run: go test -run '^$' -bench StepUpBytes ./bench/memload/
func BenchmarkStepUpBytes(b *testing.B) {
	const n = 20_000
	var perObject float64
	for b.Loop() {
		m := newMock(b, app.Config{MaxObjectsPerTenant: n + 1, MaxObjectsTotal: 4 * n})
		stepUps(b, m, 1, 1)
		before := heapInUse()
		if got := stepUps(b, m, 1, n); got[http.StatusOK] != n {
			b.Fatalf("answers %v, want %d × 200", got, n)
		}
		perObject = float64(heapInUse()-before) / n
		closeMock(b, m)
	}
	b.ReportMetric(perObject, "B/object")
}

// BenchmarkFullBudgetHeap measures the live heap of a mock at its default flags whose budget of
// all tenants together is full: the load of bench/memory.sh's second run (step-ups from 20 keys,
// three times as many as the budget holds) through the handler of app.New, then a full
// collection. It reports the live heap ("MiB-live", the mock's own included) and how many
// authorizes stored a request ("stored").
// Run: go test -run '^$' -bench FullBudgetHeap ./bench/memload/
func BenchmarkFullBudgetHeap(b *testing.B) {
	var live float64
	var stored int
	for b.Loop() {
		m := newMock(b, app.Config{})
		stored = stepUps(b, m, 20, 60_000)[http.StatusOK]
		live = float64(heapInUse()) / (1 << 20)
		closeMock(b, m)
	}
	b.ReportMetric(live, "MiB-live")
	b.ReportMetric(float64(stored), "stored")
}

// newMock is app.New with cfg on a manual clock.
func newMock(b *testing.B, cfg app.Config) *app.Mock {
	b.Helper()
	cfg.Clock = clock.NewManual(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	m, err := app.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// closeMock closes m once measured, so that the next iteration measures a heap without it.
func closeMock(b *testing.B, m *app.Mock) {
	b.Helper()
	if _, err := m.Close(b.Context()); err != nil {
		b.Fatal(err)
	}
}

// stepUps sends n of memload's step-up authorizes to m's handler, in turn from keys API keys,
// and counts the answers by status; anything but a 200 or a 429 fails the benchmark.
func stepUps(b *testing.B, m *app.Mock, keys, n int) map[int]int {
	b.Helper()
	got := map[int]int{}
	for i := range n {
		req := httptest.NewRequest(http.MethodPost, "/v2/accounts/"+account+"/payment/authorize", bytes.NewReader(stepUpBody(int64(i))))
		req.Header.Set("Authorization", fmt.Sprint("Basic klarna_test_api_bytes_", i%keys))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		m.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusTooManyRequests {
			b.Fatalf("authorize %d: %d %s", i, rec.Code, rec.Body)
		}
		got[rec.Code]++
	}
	return got
}

// heapInUse returns the bytes of live heap objects after a full collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
