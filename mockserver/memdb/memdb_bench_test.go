package memdb_test

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/klarna-mock/klarna-mock/fixtures"
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
)

// typicalRequest builds a Payment Request as a step-up of the one-time sample (two line items,
// a customer, a shipping address) leaves it, decoding the body afresh as the server does, so the
// request holds its own strings. A canceled one is finished at now, any other is SUBMITTED.
func typicalRequest(tb testing.TB, body []byte, tenant string, now time.Time, canceled bool) *mockserver.PaymentRequest {
	var req mockserver.AuthorizeRequest
	if err := json.Unmarshal(body, &req); err != nil {
		tb.Fatal(err)
	}
	id := mockserver.PrefixPaymentRequest + uuid.NewString()
	pr := &mockserver.PaymentRequest{
		AccountID:               scope(tenant),
		PaymentRequestID:        id,
		PaymentRequestReference: req.StepUpConfig.PaymentRequestReference,
		Amount:                  req.RequestPaymentTransaction.Amount,
		Currency:                req.Currency,
		State:                   mockserver.StateSubmitted,
		StateContext: &mockserver.StateContext{CustomerInteraction: &mockserver.CustomerInteraction{
			Method:            mockserver.MethodHandover,
			PaymentRequestID:  id,
			PaymentRequestURL: "https://mock.example.com/journey/" + id,
			ReturnURL:         req.StepUpConfig.CustomerInteractionConfig.ReturnURL,
		}},
		CreatedAt: now,
		UpdatedAt: now,
		ExpiresAt: now.Add(mockserver.DefaultRequestExpiry),
	}
	pr.SetInitialRequest(&req)
	if canceled {
		pr.State = mockserver.StateCanceled
	}
	return pr
}

func sampleBody(tb testing.TB) []byte {
	body, err := fixtures.Samples.ReadFile("samples/one-time.json")
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

func putRequest(tb testing.TB, s *memdb.Store, pr *mockserver.PaymentRequest) {
	if err := s.Update(func(tx mockserver.Tx) error { return tx.PutPaymentRequest(pr) }); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkPutPaymentRequest measures one write transaction storing a new Payment Request: into
// an empty store (a quota that never binds), and into a tenant full to its quota of finished
// requests, where every insert also drops the earliest finished one. The cost must not grow with
// the quota. Run: go test -run '^$' -bench PutPaymentRequest -benchmem ./mockserver/memdb/
func BenchmarkPutPaymentRequest(b *testing.B) {
	body := sampleBody(b)
	bench := func(b *testing.B, quota, prefill int) {
		s, _ := newStore(b, quota, 0)
		for range prefill {
			putRequest(b, s, typicalRequest(b, body, tenantA, start.Add(-time.Hour), true))
		}
		prs := make([]*mockserver.PaymentRequest, 4096)
		for i := range prs {
			prs[i] = typicalRequest(b, body, tenantA, start.Add(-time.Hour), true)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			// Each iteration stores a new id; the bodies are decoded up front, outside the timing.
			pr := *prs[i%len(prs)]
			pr.PaymentRequestID = fmt.Sprint(mockserver.PrefixPaymentRequest, i)
			i++
			putRequest(b, s, &pr)
		}
	}
	b.Run("empty", func(b *testing.B) { bench(b, math.MaxInt32, 0) })
	for _, quota := range []int{500, memdb.DefaultMaxPerTenant, 50_000} {
		b.Run(fmt.Sprint("full-", quota), func(b *testing.B) { bench(b, quota, quota) })
	}
}

// BenchmarkStoredPaymentRequestBytes measures what a stored typical Payment Request costs in
// memory: the heap in use after storing n of them, minus before, per request ("B/object", the
// request itself included), and the store's own share beyond the request ("store-B/object"). It
// is the store's part of what the whole mock keeps per request, which BenchmarkStepUpBytes in
// bench/memload measures (its expiry in the clock, the journal's share besides).
// Run: go test -run '^$' -bench StoredPaymentRequestBytes ./mockserver/memdb/
func BenchmarkStoredPaymentRequestBytes(b *testing.B) {
	const n = 20_000
	body := sampleBody(b)
	var total, store float64
	for b.Loop() {
		s, _ := newStore(b, n, 0)
		prs := make([]*mockserver.PaymentRequest, n)
		before := heapInUse()
		for i := range prs {
			prs[i] = typicalRequest(b, body, tenantA, start, false)
		}
		built := heapInUse()
		for _, pr := range prs {
			putRequest(b, s, pr)
		}
		after := heapInUse()
		runtime.KeepAlive(prs)
		runtime.KeepAlive(s)
		total = float64(after-before) / n
		store = float64(after-built) / n
	}
	b.ReportMetric(total, "B/object")
	b.ReportMetric(store, "store-B/object")
}

// heapInUse returns the bytes of live heap objects after a full collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
