package memdb_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	"github.com/klarna-mock/klarna-mock/reference-impl/memdb"
)

func newStore(t *testing.T) *memdb.Store {
	t.Helper()
	s, err := memdb.New()
	require.NoError(t, err)
	return s
}

func put(t *testing.T, s *memdb.Store, p *acquirer.Payment) error {
	t.Helper()
	return s.Update(func(tx acquirer.Tx) error { return tx.PutPayment(p) })
}

func TestPaymentsByEveryIndex(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	p := &acquirer.Payment{ID: "ses_1", PartnerID: "partner-a", IdempotencyKey: "key-1", PaymentRequestID: "krn:payment:eu1:request:1"}
	require.NoError(t, put(t, s, p))
	require.NoError(t, put(t, s, &acquirer.Payment{ID: "ses_2", PartnerID: "partner-a"}), "payments without optional values do not collide")
	require.NoError(t, put(t, s, &acquirer.Payment{ID: "ses_3", PartnerID: "partner-a"}))

	require.NoError(t, s.View(func(tx acquirer.Tx) error {
		got, err := tx.Payment("ses_1")
		require.NoError(t, err)
		require.Same(t, p, got)
		got, err = tx.PaymentByPaymentRequest("krn:payment:eu1:request:1")
		require.NoError(t, err)
		require.Same(t, p, got)
		got, err = tx.PaymentByIdempotencyKey("partner-a", "key-1")
		require.NoError(t, err)
		require.Same(t, p, got)
		_, err = tx.PaymentByIdempotencyKey("partner-b", "key-1")
		require.ErrorIs(t, err, acquirer.ErrNotFound, "idempotency keys are per Partner")
		_, err = tx.Payment("ses_404")
		require.ErrorIs(t, err, acquirer.ErrNotFound)
		return nil
	}))
}

func TestUniqueIndexesAreEnforced(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	require.NoError(t, put(t, s, &acquirer.Payment{ID: "ses_1", PartnerID: "a", IdempotencyKey: "k", PaymentRequestID: "pr-1"}))

	err := put(t, s, &acquirer.Payment{ID: "ses_2", PartnerID: "a", IdempotencyKey: "k"})
	require.ErrorIs(t, err, acquirer.ErrConflict)
	err = put(t, s, &acquirer.Payment{ID: "ses_3", PartnerID: "a", PaymentRequestID: "pr-1"})
	require.ErrorIs(t, err, acquirer.ErrConflict)
	require.NoError(t, put(t, s, &acquirer.Payment{ID: "ses_4", PartnerID: "b", IdempotencyKey: "k"}))
	require.NoError(t, put(t, s, &acquirer.Payment{ID: "ses_1", PartnerID: "a", IdempotencyKey: "k", PaymentRequestID: "pr-1", Status: acquirer.StatusCompleted}),
		"replacing a payment keeps its own unique values")

	tok := func(id, partner, klarna string) error {
		return s.Update(func(tx acquirer.Tx) error {
			return tx.PutToken(&acquirer.Token{ID: id, PartnerID: partner, KlarnaToken: klarna})
		})
	}
	require.NoError(t, tok("aptok_1", "a", "krn:customer-token:eu1:1"))
	require.ErrorIs(t, tok("aptok_2", "a", "krn:customer-token:eu1:1"), acquirer.ErrConflict)
	require.NoError(t, tok("aptok_3", "b", "krn:customer-token:eu1:1"))
	require.NoError(t, s.View(func(tx acquirer.Tx) error {
		got, err := tx.TokenByKlarnaToken("b", "krn:customer-token:eu1:1")
		require.NoError(t, err)
		require.Equal(t, "aptok_3", got.ID)
		return nil
	}))
}

func TestAFailedUpdateChangesNothing(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	boom := errors.New("boom")
	err := s.Update(func(tx acquirer.Tx) error {
		require.NoError(t, tx.PutPayment(&acquirer.Payment{ID: "ses_1"}))
		require.NoError(t, tx.PutKlarnaEvent("ev-1", time.Now()))
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.NoError(t, s.View(func(tx acquirer.Tx) error {
		_, err := tx.Payment("ses_1")
		require.ErrorIs(t, err, acquirer.ErrNotFound)
		seen, err := tx.KlarnaEventSeen("ev-1")
		require.NoError(t, err)
		require.False(t, seen)
		return nil
	}))
}

func TestEventsAndDeletes(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	require.NoError(t, s.Update(func(tx acquirer.Tx) error {
		require.NoError(t, tx.PutKlarnaEvent("ev-1", time.Now()))
		require.NoError(t, tx.PutPayment(&acquirer.Payment{ID: "ses_1", PartnerID: "a", IdempotencyKey: "k"}))
		return tx.DeletePayment("ses_1")
	}))
	require.NoError(t, s.View(func(tx acquirer.Tx) error {
		seen, err := tx.KlarnaEventSeen("ev-1")
		require.NoError(t, err)
		require.True(t, seen)
		_, err = tx.PaymentByIdempotencyKey("a", "k")
		require.ErrorIs(t, err, acquirer.ErrNotFound, "a deleted payment frees its idempotency key")
		return nil
	}))
	require.ErrorIs(t, s.Update(func(tx acquirer.Tx) error { return tx.DeletePayment("nope") }), acquirer.ErrNotFound)
}
