package memdb_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
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
func randomID(r *rand.Rand) string { return mockserver.PrefixPaymentRequest + randomUUID(r) }

// randomUUID returns a UUID drawn from r, as text.
func randomUUID(r *rand.Rand) string {
	var u uuid.UUID
	binary.LittleEndian.PutUint64(u[:8], r.Uint64())
	binary.LittleEndian.PutUint64(u[8:], r.Uint64())
	return u.String()
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

// BenchmarkRounds reproduces in the store what bench/run.sh's rounds do to it: each iteration is a
// round that resets the tenant (ForgetTenant, as POST /mock/v1/reset does), stores the customer
// token the round charges, then 5,000 new live Payment Transactions (the default quota, reached
// and never exceeded), one write transaction each. It reports each fifth of a round apart, per
// write: cpu-ns/op (the process's CPU time, garbage collection included), gc-cpu-ns/op (the
// runtime's estimate of the part spent collecting, which grows with the live heap the store's
// objects make), allocs/op and B/op, as fifth-N-…, so that a cost growing with the store shows as
// a fifth dearer than the first.
// Run: go test -run '^$' -bench Rounds -count 3 ./mockserver/memdb/
func BenchmarkRounds(b *testing.B) {
	const (
		round  = memdb.DefaultMaxPerTenant
		fifths = 5
	)
	s, _ := newStore(b, round, 0)
	token := &mockserver.CustomerToken{AccountID: scope(tenantA), Token: mockserver.PrefixCustomerToken + "bench", Status: mockserver.TokenActive}
	template := mockserver.PaymentTransaction{
		AccountID: scope(tenantA), PaymentTransactionReference: "order-1", Amount: 11800, Currency: "USD",
		State: mockserver.TransactionAuthorized, CustomerToken: token.Token,
		CreatedAt: start, UpdatedAt: start, ExpiresAt: start.Add(mockserver.TransactionExpiry),
	}
	ids := rand.New(rand.NewPCG(1, 2))
	trs := make([]mockserver.PaymentTransaction, round)
	var cpu [fifths]time.Duration
	var gc [fifths]float64
	var allocs, bytes [fifths]uint64
	var m runtime.MemStats
	gcCPU := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	for b.Loop() {
		// The round's transactions are made before it, so that only the store's work is measured.
		for i := range trs {
			trs[i] = template
			trs[i].PaymentTransactionID = mockserver.PrefixPaymentTransaction + randomUUID(ids)
		}
		if err := s.ForgetTenant(tenantA); err != nil {
			b.Fatal(err)
		}
		if err := s.Update(func(tx mockserver.Tx) error { return tx.PutCustomerToken(token) }); err != nil {
			b.Fatal(err)
		}
		for f := range fifths {
			runtime.ReadMemStats(&m)
			metrics.Read(gcCPU)
			mallocs, total, collecting, began := m.Mallocs, m.TotalAlloc, gcCPU[0].Value.Float64(), cputime.Process()
			for i := f * round / fifths; i < (f+1)*round/fifths; i++ {
				if err := s.Update(func(tx mockserver.Tx) error { return tx.PutPaymentTransaction(&trs[i]) }); err != nil {
					b.Fatal(err)
				}
			}
			cpu[f] += cputime.Process() - began
			metrics.Read(gcCPU)
			gc[f] += gcCPU[0].Value.Float64() - collecting
			runtime.ReadMemStats(&m)
			allocs[f] += m.Mallocs - mallocs
			bytes[f] += m.TotalAlloc - total
		}
	}
	writes := float64(b.N * round / fifths)
	for f := range fifths {
		b.ReportMetric(float64(cpu[f].Nanoseconds())/writes, fmt.Sprintf("fifth-%d-cpu-ns/op", f+1))
		b.ReportMetric(gc[f]*1e9/writes, fmt.Sprintf("fifth-%d-gc-cpu-ns/op", f+1))
		b.ReportMetric(float64(allocs[f])/writes, fmt.Sprintf("fifth-%d-allocs/op", f+1))
		b.ReportMetric(float64(bytes[f])/writes, fmt.Sprintf("fifth-%d-B/op", f+1))
	}
}
