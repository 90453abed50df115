package app_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver/app"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/storetest"
)

// benchCharge is an approved charge of a customer token without the customer, with a line item
// and a customer: each one stores a transaction.
const benchCharge = `{"currency":"USD","request_payment_transaction":{"amount":11800,"payment_transaction_reference":"order-1","capture":"LATER"},"supplementary_purchase_data":{"purchase_reference":"purchase-1","line_items":[{"name":"Shoes","quantity":1,"total_amount":11800}],"customer":{"email":"jane@example.com"}}}`

// BenchmarkAuthorizeStores runs the same handler on memory and on PostgreSQL (when
// KLARNA_MOCK_TEST_DATABASE_URL is set), with 8 clients per core, and reports requests per second,
// the mock process's CPU per request (user and system; PostgreSQL's own CPU is not in it) and
// the p50 and p99 latencies. Run:
//
//	go test -run '^$' -bench AuthorizeStores -benchtime 5s ./mockserver/app/
func BenchmarkAuthorizeStores(b *testing.B) {
	// postgres-replicas is two mocks on one database, the clients taking turns between them, as
	// behind a load balancer; both run in this process, on its cores.
	for _, store := range []string{"memdb", "postgres", "postgres-replicas"} {
		b.Run(store, func(b *testing.B) {
			cfg := app.Config{Clock: clock.NewManual(restartStart), MaxObjectsPerTenant: 1 << 30, MaxObjectsTotal: 1 << 30}
			replicas := 1
			if store != "memdb" {
				cfg.DatabaseURL = storetest.Database(b)
			}
			if store == "postgres-replicas" {
				replicas = 2
			}
			ms := make([]*app.Mock, replicas)
			for i := range ms {
				cfg.Clock = clock.NewManual(restartStart)
				m, err := app.New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _, _ = m.Close(b.Context()) })
				ms[i] = m
			}
			benchCharges(b, ms)
		})
	}
}

// benchCharges creates a customer token and charges it b.N times from parallel clients, each
// client calling one of the mocks, in turn.
func benchCharges(b *testing.B, ms []*app.Mock) {
	tn := tenantOf(b, ms[0], "bench")
	session := tn.session()
	created := tn.do(http.MethodPost, "/v2/accounts/"+account+"/payment/authorize",
		map[string]any{"currency": "USD", "request_customer_token": map[string]any{"scopes": []string{"payment:customer_not_present"}}},
		"Klarna-Network-Session-Token", session)
	token := created.str("customer_token_response.customer_token.customer_token")
	if token == "" {
		b.Fatalf("creating the customer token: %d %s", created.status, created.raw)
	}
	body := []byte(benchCharge)
	var mu sync.Mutex
	var latencies []time.Duration
	cpu := cpuTime()
	// Many clients at once, as a shared sandbox has: a store that waits on the database serves
	// others meanwhile.
	b.SetParallelism(8)
	b.ResetTimer()
	began := time.Now()
	var clients atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		m := ms[int(clients.Add(1))%len(ms)]
		var mine []time.Duration
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/v2/accounts/"+account+"/payment/authorize", bytes.NewReader(body))
			req.Header.Set("Authorization", "Basic "+tn.key)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Klarna-Customer-Token", token)
			rec := httptest.NewRecorder()
			t0 := time.Now()
			m.Handler.ServeHTTP(rec, req)
			mine = append(mine, time.Since(t0))
			if rec.Code != http.StatusOK {
				b.Errorf("%d %s", rec.Code, rec.Body)
				return
			}
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(began)
	b.StopTimer()
	cpu = cpuTime() - cpu
	slices.Sort(latencies)
	if len(latencies) == 0 {
		return
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
