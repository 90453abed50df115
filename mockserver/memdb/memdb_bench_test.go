package memdb

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// BenchmarkPutTransaction measures one write transaction storing a new transaction, the store's
// share of an approved authorize. Run: go test -run '^$' -bench . -benchmem ./mockserver/memdb/
func BenchmarkPutTransaction(b *testing.B) {
	s, err := New(0)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		tr := &mockserver.PaymentTransaction{AccountID: "t/a", PaymentTransactionID: mockserver.PrefixPaymentTransaction + uuid.NewString(), Amount: 1, Currency: "USD", CreatedAt: now}
		if err := s.Update(func(tx mockserver.Tx) error { return tx.PutPaymentTransaction(tr) }); err != nil {
			b.Fatal(err)
		}
	}
}
