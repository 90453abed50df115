package http_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klarna-mock/klarna-mock/internal/cputime"
	"github.com/klarna-mock/klarna-mock/internal/httpserver"
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/app"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
)

// benchSubscription is the subscription a charge without the customer carries, as Klarna asks
// for on every recurring charge (docs/klarna.md §7).
const benchSubscription = `"subscriptions":[{"subscription_reference":"sub-1","name":"Shoe club","billing_plans":[{"billing_amount":11800,"currency":"USD","interval":"MONTH","interval_frequency":1}]}]`

// benchBody is an approved charge of a customer token without the customer, with line items, a
// customer and the subscription: the shape a real integration sends, so validation cost is
// realistic. Each one stores a transaction; unlike a network session token, which the first
// transaction made with it spends (docs/klarna.md §6), the customer token can be charged again
// and again.
const benchBody = `{"currency":"USD","request_payment_transaction":{"amount":11800,"payment_transaction_reference":"order-1","capture":"LATER"},"supplementary_purchase_data":{"purchase_reference":"purchase-1","line_items":[{"name":"Shoes","quantity":1,"total_amount":11800}],"customer":{"email":"jane@example.com"},` + benchSubscription + `}}`

// benchTokenBody creates the customer token the benchmark charges.
const benchTokenBody = `{"currency":"USD","request_customer_token":{"scopes":["payment:customer_not_present"],"customer_token_reference":"bench"},"step_up_config":{"payment_request_reference":"pr-1","customer_interaction_config":{"method":"HANDOVER","return_url":"https://merchant.example/return"}},"supplementary_purchase_data":{` + benchSubscription + `}}`

// BenchmarkAuthorize shows what an approved authorize costs in-process, without the network,
// whole and by part: "handler" is the whole HTTP stack (routing, auth, contract validation,
// decoding, rules, storage, encoding); "service" is the domain and storage alone, so the
// difference is what HTTP and validation add; "store" is the service's write of the transaction
// into an empty memdb store; "encode" is writing the answer. "handler-parallel" is the whole
// HTTP stack again from 16 goroutines per GOMAXPROCS at once (b.SetParallelism(16)), all
// charging the same customer token: the only one where the store commits concurrent writers
// together (group commit, Store.update in mockserver/memdb), so it, not "handler", shows what
// that saves; it also reports the p50 and p99 wall time of one authorize (p50-ns, p99-ns),
// waiting for a core and for the batch's commit included. Contract validation alone is
// BenchmarkAuthorizeValidation in contracts/validate. Each reports allocations and cpu-ns/op,
// the process's CPU time per operation, garbage collection included, which unlike ns/op does not
// count waiting for a core on a busy machine.
// Run: go test -run '^$' -bench Authorize -benchmem -benchtime 20000x ./mockserver/http/
func BenchmarkAuthorize(b *testing.B) {
	// Every approved authorize stores an AUTHORIZED transaction, which stays live for weeks: a
	// quota above any b.N keeps the benchmark measuring approvals, not the 429 of a full quota.
	m, err := app.New(app.Config{Clock: clock.NewManual(testStart), MaxObjectsPerTenant: 1 << 30, MaxObjectsTotal: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	const key, account = "klarna_test_api_bench", "krn:partner:global:account:test:BENCH001"
	serve := func(path, body string, headers ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v2/accounts/"+account+path, bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Basic "+key)
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		rec := httptest.NewRecorder()
		m.Handler.ServeHTTP(rec, req)
		return rec
	}

	// The customer token both handler benchmarks charge, made through HTTP like the charges.
	rec := serve("/interoperability/test-tokens", `{"email":"jane@example.com"}`)
	var tok mockserver.TestToken
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.InteroperabilityToken == "" {
		b.Fatalf("minting a test token: %d %s", rec.Code, rec.Body)
	}
	rec = serve("/payment/authorize", benchTokenBody, "Klarna-Network-Session-Token", tok.InteroperabilityToken)
	var created mockserver.AuthorizeResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || created.CustomerTokenResponse == nil || created.CustomerTokenResponse.CustomerToken == nil {
		b.Fatalf("creating the customer token: %d %s", rec.Code, rec.Body)
	}
	token := created.CustomerTokenResponse.CustomerToken.Token
	authorize := func() error {
		if rec := serve("/payment/authorize", benchBody, "Klarna-Customer-Token", token); rec.Code != http.StatusOK {
			return fmt.Errorf("%d %s", rec.Code, rec.Body)
		}
		return nil
	}
	b.Run("handler", func(b *testing.B) {
		measure(b, func() {
			if err := authorize(); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("handler-parallel", func(b *testing.B) {
		measureParallel(b, 16, authorize)
	})
	// The service alone charges a token of its own; the handler stores under the key's tenant,
	// and any scope will do here.
	charge := mockserver.AuthorizeCall{AccountID: mockserver.Scope("bench", account), Request: authorizeRequest(b, benchBody),
		CustomerToken: chargeableToken(b, m, mockserver.Scope("bench", account))}
	b.Run("service", func(b *testing.B) {
		measure(b, func() {
			resp, err := m.Service.Authorize(charge)
			if err != nil || resp.PaymentTransactionResponse.Result != mockserver.ResultApproved {
				b.Fatal(err, resp)
			}
		})
	})
	// One approved answer, for the parts below.
	approved, err := m.Service.Authorize(charge)
	if err != nil || approved.PaymentTransactionResponse.PaymentTransaction == nil {
		b.Fatal("an approved authorize: ", err)
	}
	b.Run("store", func(b *testing.B) {
		s, err := memdb.New(memdb.Config{MaxObjectsPerTenant: 1 << 30, MaxObjectsTotal: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		tr := *approved.PaymentTransactionResponse.PaymentTransaction
		i := 0
		measure(b, func() {
			// Each write stores a new transaction, as each approved authorize does.
			t := tr
			t.PaymentTransactionID = fmt.Sprint(mockserver.PrefixPaymentTransaction, i)
			i++
			if err := s.Update(func(tx mockserver.Tx) error { return tx.PutPaymentTransaction(&t) }); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("encode", func(b *testing.B) {
		measure(b, func() {
			if err := httpserver.WriteJSON(discard{}, http.StatusOK, approved); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// chargeableToken makes a customer token of the scope through the service, as the handler's
// setup does through HTTP.
func chargeableToken(b *testing.B, m *app.Mock, scope string) string {
	b.Helper()
	t, err := m.Service.MintTestToken(mockserver.TestTokenCall{AccountID: scope, Request: mockserver.TestTokenRequest{Email: "jane@example.com"}})
	if err != nil {
		b.Fatal(err)
	}
	created, err := m.Service.Authorize(mockserver.AuthorizeCall{AccountID: scope, Request: authorizeRequest(b, benchTokenBody),
		SessionToken: t.InteroperabilityToken, SessionHeader: mockserver.HeaderNetworkSessionToken})
	if err != nil || created.CustomerTokenResponse == nil || created.CustomerTokenResponse.CustomerToken == nil {
		b.Fatal("creating the customer token: ", err, created)
	}
	return created.CustomerTokenResponse.CustomerToken.Token
}

// authorizeRequest decodes an authorize body, as the handler does.
func authorizeRequest(b *testing.B, body string) *mockserver.AuthorizeRequest {
	b.Helper()
	var ar mockserver.AuthorizeRequest
	if err := json.Unmarshal([]byte(body), &ar); err != nil {
		b.Fatal(err)
	}
	return &ar
}

// measure runs op b.N times, reporting allocations and cpu-ns/op.
func measure(b *testing.B, op func()) {
	reportCPU(b, func() {
		for b.Loop() {
			op()
		}
	})
}

// measureParallel runs op b.N times in all from parallelism goroutines per GOMAXPROCS at once
// (b.RunParallel), reporting what measure does and the p50 and p99 of the wall time of one op,
// waiting for a core included. op returns its error rather than calling b.Fatal, which must
// not be called from the goroutines RunParallel starts.
func measureParallel(b *testing.B, parallelism int, op func() error) {
	b.SetParallelism(parallelism)
	// One slot per op, filled through an atomic index: no lock or append among the writers
	// being measured.
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	b.ResetTimer()
	reportCPU(b, func() {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				began := time.Now()
				if err := op(); err != nil {
					b.Error(err)
					return
				}
				lat[next.Add(1)-1] = time.Since(began)
			}
		})
	})
	b.StopTimer()
	if b.Failed() {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2]), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100]), "p99-ns")
}

// reportCPU runs loop, the benchmark's b.N ops, reporting allocations and cpu-ns/op.
func reportCPU(b *testing.B, loop func()) {
	b.ReportAllocs()
	cpu := cputime.Process()
	loop()
	b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
}

// discard is a ResponseWriter that keeps nothing, so "encode" measures the encoding alone.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
