package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/app"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/postgres"
	"github.com/klarna-mock/klarna-mock/mockserver/storetest"
)

// benchCharge is an approved charge of a customer token without the customer, with a line item
// and a customer: each one stores a transaction.
const benchCharge = `{"currency":"USD","request_payment_transaction":{"amount":11800,"payment_transaction_reference":"order-1","capture":"LATER"},"supplementary_purchase_data":{"purchase_reference":"purchase-1","line_items":[{"name":"Shoes","quantity":1,"total_amount":11800}],"customer":{"email":"jane@example.com"}}}`

// BenchmarkAuthorizeStores runs the same handler on memory and on PostgreSQL (when
// KLARNA_MOCK_TEST_DATABASE_URL is set), with 8 clients per core, all charging one tenant's token
// or (the -tenants runs) each client a tenant of its own, as a shared sandbox is loaded, and
// reports requests per second,
// the mock process's CPU per request (user and system; PostgreSQL's own CPU is not in it), the
// p50 and p99 latencies, and, when the database runs on this machine, its processes' CPU per
// request (pg-cpu-µs/op, postgresCPU: an upper bound when other work uses the cluster). Run:
//
//	go test -run '^$' -bench AuthorizeStores -benchtime 5s ./mockserver/app/
func BenchmarkAuthorizeStores(b *testing.B) {
	// postgres-replicas is two mocks on one database, the clients taking turns between them, as
	// behind a load balancer; both run in this process, on its cores.
	for _, store := range []string{"memdb", "postgres", "postgres-replicas"} {
		for _, tenants := range []int{1, benchTenants} {
			name := store
			if tenants > 1 {
				name = fmt.Sprintf("%s-tenants-%d", store, tenants)
			}
			b.Run(name, func(b *testing.B) {
				cfg := app.Config{Clock: clock.NewManual(restartStart), MaxObjectsPerTenant: 1 << 30, MaxObjectsTotal: 1 << 30}
				replicas := 1
				if store != "memdb" {
					cfg.DatabaseURL = storetest.Database(b)
				}
				if store == "postgres-replicas" {
					replicas = 2
				}
				benchCharges(b, benchMocks(b, cfg, replicas), tenants, cfg.DatabaseURL != "")
			})
		}
	}
}

// benchTenants is how many tenants the -tenants runs of BenchmarkAuthorizeStores charge: one for
// each of its clients on this 2-core machine (8 per core).
const benchTenants = 16

// benchMocks starts n mocks with cfg, each on a manual clock of its own, closed when b ends.
func benchMocks(b *testing.B, cfg app.Config, n int) []*app.Mock {
	ms := make([]*app.Mock, n)
	for i := range ms {
		cfg.Clock = clock.NewManual(restartStart)
		m, err := app.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _, _ = m.Close(b.Context()) })
		ms[i] = m
	}
	return ms
}

// dispatchTenants is how many tenants BenchmarkOutboxDispatch's events are spread over.
const dispatchTenants = 4

// BenchmarkOutboxDispatch measures how fast events waiting in the outbox of a database
// (KLARNA_MOCK_TEST_DATABASE_URL) become webhooks delivered to a local receiver, with one mock
// and with two on the database. Each of dispatchTenants tenants has a webhook taking every event;
// b.N events, spread over the tenants, each about a Payment Request of its own, are committed
// into the outbox first by a store no mock hears (as a mock that died after its changes leaves
// them); then every mock drains the outbox, and the clock runs until the receiver has had b.N
// deliveries. It reports events and deliveries per second (one webhook per event: the same
// figure), and the CPU of the process (the mocks and the receiver) per event. Run:
//
//	go test -run '^$' -bench OutboxDispatch -benchtime 2000x ./mockserver/app/
func BenchmarkOutboxDispatch(b *testing.B) {
	for _, mocks := range []int{1, 2} {
		b.Run(fmt.Sprintf("mocks-%d", mocks), func(b *testing.B) {
			db := storetest.Database(b)
			var delivered atomic.Int64
			receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				delivered.Add(1)
			}))
			b.Cleanup(receiver.Close)
			ms := benchMocks(b, app.Config{DatabaseURL: db, MaxObjectsPerTenant: 1 << 30}, mocks)
			tenants := make([]string, dispatchTenants)
			for i := range tenants {
				key := fmt.Sprintf("dispatch-%d", i)
				webhookOn(tenantOf(b, ms[0], key), receiver.URL, "*")
				sum := sha256.Sum256([]byte("klarna_test_api_" + key))
				tenants[i] = "key-" + hex.EncodeToString(sum[:8]) // as mockhttp.Accounts.Resolve names it
			}
			emitEvents(b, db, tenants, b.N)

			cpu := cpuTime()
			b.ResetTimer()
			began := time.Now()
			for _, m := range ms {
				go m.Notifier.DrainOutbox()
			}
			for delivered.Load() < int64(b.N) {
				if time.Since(began) > time.Minute {
					b.Fatalf("%d of %d events delivered after a minute", delivered.Load(), b.N)
				}
				time.Sleep(time.Millisecond)
			}
			elapsed := time.Since(began)
			b.StopTimer()
			cpu = cpuTime() - cpu
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(delivered.Load())/elapsed.Seconds(), "deliveries/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
		})
	}
}

// emitEvents commits n events of the tenants, in turn, into the outbox of the database db, in
// transactions of up to 100, through a store of its own that wakes no mock.
func emitEvents(b *testing.B, db string, tenants []string, n int) {
	store, err := postgres.Open(b.Context(), postgres.Config{URL: db, MaxObjectsPerTenant: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	for first := 0; first < n; first += 100 {
		err := store.Update(func(tx mockserver.Tx) error {
			for i := first; i < min(first+100, n); i++ {
				tenant := tenants[i%len(tenants)]
				pr := &mockserver.PaymentRequest{AccountID: mockserver.Scope(tenant, account), State: mockserver.StateSubmitted,
					PaymentRequestID: fmt.Sprintf("%s%d", mockserver.PrefixPaymentRequest, i), Amount: 11800, Currency: "USD"}
				if err := tx.Emit(mockserver.Event{Type: mockserver.EventRequestSubmitted, Tenant: tenant, AccountID: account,
					Subject: pr.PaymentRequestID, OccurredAt: restartStart, Payload: pr}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchCharges creates a customer token in each of n tenants and charges them b.N times in all
// from parallel clients, client i charging tenant i mod n, each client calling one of the mocks,
// in turn; database tells the mocks keep their state in PostgreSQL, whose CPU is then reported
// too.
func benchCharges(b *testing.B, ms []*app.Mock, n int, database bool) {
	type charged struct{ key, token string }
	tenants := make([]charged, n)
	for i := range tenants {
		tn := tenantOf(b, ms[0], fmt.Sprintf("bench%d", i))
		session := tn.session()
		created := tn.do(http.MethodPost, "/v2/accounts/"+account+"/payment/authorize",
			map[string]any{"currency": "USD", "request_customer_token": map[string]any{"scopes": []string{"payment:customer_not_present"}}},
			"Klarna-Network-Session-Token", session)
		token := created.str("customer_token_response.customer_token.customer_token")
		if token == "" {
			b.Fatalf("creating the customer token: %d %s", created.status, created.raw)
		}
		tenants[i] = charged{tn.key, token}
	}
	body := []byte(benchCharge)
	var mu sync.Mutex
	var latencies []time.Duration
	cpu, pgCPU := cpuTime(), postgresCPU()
	// Many clients at once, as a shared sandbox has: a store that waits on the database serves
	// others meanwhile.
	b.SetParallelism(8)
	b.ResetTimer()
	began := time.Now()
	var clients atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		client := int(clients.Add(1))
		m, tn := ms[client%len(ms)], tenants[client%len(tenants)]
		var mine []time.Duration
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/v2/accounts/"+account+"/payment/authorize", bytes.NewReader(body))
			req.Header.Set("Authorization", "Basic "+tn.key)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Klarna-Customer-Token", tn.token)
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
	cpu, pgCPU = cpuTime()-cpu, postgresCPU()-pgCPU
	slices.Sort(latencies)
	if len(latencies) == 0 {
		return
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
	if database && pgCPU > 0 {
		b.ReportMetric(float64(pgCPU.Microseconds())/float64(b.N), "pg-cpu-µs/op")
	}
}

// postgresCPU is the CPU time the PostgreSQL processes of this machine have used, user and
// system, with that of their children that ended (the postmaster's reaped backends), read from
// /proc; 0 where there is none. /proc counts in clock ticks, which Linux reports at 100 a second.
func postgresCPU() time.Duration {
	dirs, _ := os.ReadDir("/proc")
	var ticks int64
	for _, d := range dirs {
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue // not a process, or one that ended
		}
		// pid (comm) state ppid ...: utime, stime, cutime and cstime are the 14th to 17th fields.
		comm, rest, ok := strings.Cut(string(stat), ") ")
		if !ok || !strings.HasSuffix(comm, "(postgres") {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) < 15 {
			continue
		}
		for _, f := range fields[11:15] {
			n, _ := strconv.ParseInt(f, 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
