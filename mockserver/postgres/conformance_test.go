package postgres_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/postgres"
	"github.com/klarna-mock/klarna-mock/mockserver/storetest"
)

// TestConformance runs the stores' one conformance suite on a schema of its own per test.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, cfg storetest.Config) storetest.Store {
		return open(t, postgres.Config{MaxObjectsPerTenant: cfg.MaxObjectsPerTenant, Retention: cfg.Retention, Clock: cfg.Clock})
	})
}

// open opens a store on a fresh schema of the test database, closed when t ends.
func open(t testing.TB, cfg postgres.Config) *postgres.Store {
	t.Helper()
	if cfg.URL == "" {
		cfg.URL = storetest.Database(t)
	}
	s, err := postgres.Open(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// twoStores opens two stores on one fresh schema, as two mocks on one database have.
func twoStores(t testing.TB) (a, b *postgres.Store) {
	t.Helper()
	url := storetest.Database(t)
	return open(t, postgres.Config{URL: url}), open(t, postgres.Config{URL: url})
}

// TestOneWinnerAcrossStores races writers of two stores on one database, as two replicas of the
// mock are: the tenant's advisory lock serializes them as one store's writers are.
func TestOneWinnerAcrossStores(t *testing.T) {
	t.Parallel()
	url := storetest.Database(t)
	storetest.RaceToFinalize(t, open(t, postgres.Config{URL: url}), open(t, postgres.Config{URL: url}))
}

// TestViewOne checks the read of one object outside a transaction (mockserver.SingleReader): it
// reads as View does, and a function that reads twice is run again, in a read-only transaction,
// so that both its reads see one snapshot.
func TestViewOne(t *testing.T) {
	t.Parallel()
	s := open(t, postgres.Config{})
	scope := mockserver.Scope("tenant-a", "partner-1")
	require.NoError(t, s.Update(func(tx mockserver.Tx) error {
		return errors.Join(tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope, Token: "ct-1", Status: mockserver.TokenActive}),
			tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope, Token: "ct-2", Status: mockserver.TokenActive}))
	}))
	runs := 0
	require.NoError(t, s.ViewOne(func(tx mockserver.Tx) error {
		runs++
		_, err := tx.CustomerToken(scope, "ct-1")
		return err
	}))
	require.Equal(t, 1, runs)
	runs = 0
	var second *mockserver.CustomerToken
	require.NoError(t, s.ViewOne(func(tx mockserver.Tx) error {
		runs++
		if _, err := tx.CustomerToken(scope, "ct-1"); err != nil {
			return err
		}
		var err error
		second, err = tx.CustomerToken(scope, "ct-2")
		return err
	}))
	require.Equal(t, 2, runs, "run again in a transaction")
	require.Equal(t, "ct-2", second.Token)
	require.ErrorIs(t, s.ViewOne(func(tx mockserver.Tx) error {
		_, err := tx.CustomerToken(scope, "ct-3")
		return err
	}), mockserver.ErrNotFound)
}
