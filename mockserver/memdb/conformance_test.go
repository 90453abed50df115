package memdb_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
	"github.com/klarna-mock/klarna-mock/mockserver/storetest"
)

// conformant is a memdb.Store as the conformance suite sees it: its counts cannot fail.
type conformant struct{ *memdb.Store }

func (s conformant) Count(tenant string) (map[string]int, error) { return s.Store.Count(tenant), nil }

// TestConformance runs the stores' one conformance suite, which mockserver/postgres runs too.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, cfg storetest.Config) storetest.Store {
		s, err := memdb.New(memdb.Config{MaxObjectsPerTenant: cfg.MaxObjectsPerTenant, Retention: cfg.Retention, Clock: cfg.Clock})
		require.NoError(t, err)
		return conformant{s}
	})
}
