package memdb

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

func TestEvictsOldestFirst(t *testing.T) {
	t.Parallel()
	s, err := New(3)
	require.NoError(t, err)
	put := func(id string) error {
		return s.Update(func(tx mockserver.Tx) error {
			return tx.PutPaymentTransaction(&mockserver.PaymentTransaction{AccountID: "t/a", PaymentTransactionID: id})
		})
	}
	for i := range 5 {
		require.NoError(t, put(fmt.Sprint("tx-", i)))
	}
	// Replacing an object keeps its place; an aborted transaction adds nothing.
	require.NoError(t, put("tx-2"))
	boom := errors.New("boom")
	require.ErrorIs(t, s.Update(func(tx mockserver.Tx) error {
		require.NoError(t, tx.PutPaymentTransaction(&mockserver.PaymentTransaction{AccountID: "t/a", PaymentTransactionID: "tx-aborted"}))
		return boom
	}), boom)
	require.NoError(t, s.View(func(tx mockserver.Tx) error {
		for i := range 5 {
			_, err := tx.PaymentTransaction("t/a", fmt.Sprint("tx-", i))
			if i < 2 {
				require.ErrorIs(t, err, mockserver.ErrNotFound, i)
			} else {
				require.NoError(t, err, i)
			}
		}
		_, err := tx.PaymentTransaction("t/a", "tx-aborted")
		require.ErrorIs(t, err, mockserver.ErrNotFound)
		// Objects of another account are not found.
		_, err = tx.PaymentTransaction("t/b", "tx-4")
		require.ErrorIs(t, err, mockserver.ErrNotFound)
		return nil
	}))
	// Other tables are bounded on their own.
	require.NoError(t, s.Update(func(tx mockserver.Tx) error {
		return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: "t/a", Token: "tok"})
	}))
	require.NoError(t, s.View(func(tx mockserver.Tx) error {
		_, err := tx.CustomerToken("t/a", "tok")
		return err
	}))
}

func TestWriteInReadTransactionFails(t *testing.T) {
	t.Parallel()
	s, err := New(0)
	require.NoError(t, err)
	require.Error(t, s.View(func(tx mockserver.Tx) error {
		return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: "t/a", Token: "tok"})
	}))
}
