package postgres_test

import (
	"testing"

	"github.com/stretchr/testify/require"

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

// TestOneWinnerAcrossStores races writers of two stores on one database, as two replicas of the
// mock are: the tenant's advisory lock serializes them as one store's writers are.
func TestOneWinnerAcrossStores(t *testing.T) {
	t.Parallel()
	url := storetest.Database(t)
	storetest.RaceToFinalize(t, open(t, postgres.Config{URL: url}), open(t, postgres.Config{URL: url}))
}
