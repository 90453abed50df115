package memdb_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/klarna-mock/klarna-mock/fixtures"
	"github.com/klarna-mock/klarna-mock/internal/cputime"
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

// randomID returns a Payment Request id with a UUID drawn from r.
func randomID(r *rand.Rand) string {
	var u uuid.UUID
	binary.LittleEndian.PutUint64(u[:8], r.Uint64())
	binary.LittleEndian.PutUint64(u[8:], r.Uint64())
	return mockserver.PrefixPaymentRequest + u.String()
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
// the quota. Besides allocations it reports cpu-ns/op, the process's CPU time per write, garbage
// collection included. Run: go test -run '^$' -bench PutPaymentRequest -benchmem ./mockserver/memdb/
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
		// Ids are shaped as the mock's own (a prefix and a random UUID), which is what decides
		// the shape of the store's index; a seeded generator keeps runs comparable.
		ids := rand.New(rand.NewPCG(1, 2))
		b.ReportAllocs()
		cpu := cputime.Process()
		i := 0
		for b.Loop() {
			// Each iteration stores a new id; the bodies are decoded up front, outside the timing.
			pr := *prs[i%len(prs)]
			pr.PaymentRequestID = randomID(ids)
			i++
			putRequest(b, s, &pr)
		}
		b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
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

// BenchmarkObjects measures listing one tenant's objects (a state export, the dashboard's lists)
// in a store holding 19,000 objects of other tenants besides: the cost must follow the tenant's
// objects, not the store's. Run: go test -run '^$' -bench Objects -benchmem ./mockserver/memdb/
func BenchmarkObjects(b *testing.B) {
	s, _ := newStore(b, math.MaxInt32, 0)
	fill := func(tenant string, n int) {
		for i := range n {
			if err := s.Update(func(tx mockserver.Tx) error {
				return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenant), Token: fmt.Sprint(mockserver.PrefixCustomerToken, tenant, "-", i)})
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range 19 {
		fill(fmt.Sprint("key-other-", i), 1000)
	}
	for _, n := range []int{50, 1000} {
		tenant := fmt.Sprint("key-measured-", n)
		fill(tenant, n)
		b.Run(fmt.Sprint("of-", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := s.View(func(tx mockserver.Tx) error {
					objs, err := tx.Objects(tenant)
					if len(objs) != n {
						b.Fatalf("%d objects, want %d", len(objs), n)
					}
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPrune measures Prune removing a tenant's 5,000 finished Payment Requests in one write
// transaction, which holds the store's write lock throughout, so every writer waits for it;
// per-object reports the cost of each one removed. Run:
// go test -run '^$' -bench Prune -benchmem ./mockserver/memdb/
func BenchmarkPrune(b *testing.B) {
	const n = 5000
	body := sampleBody(b)
	prs := make([]*mockserver.PaymentRequest, n)
	for i := range prs {
		prs[i] = typicalRequest(b, body, tenantA, start.Add(-time.Hour), true)
	}
	b.ReportAllocs()
	var held time.Duration
	for b.Loop() {
		b.StopTimer()
		s, _ := newStore(b, n, time.Minute)
		for _, pr := range prs {
			putRequest(b, s, pr)
		}
		b.StartTimer()
		began := time.Now()
		if removed, err := s.Prune(); err != nil || removed != n {
			b.Fatal(removed, err)
		}
		held += time.Since(began)
	}
	b.ReportMetric(float64(held.Nanoseconds())/float64(b.N*n), "ns/object")
}
