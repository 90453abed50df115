package memdb_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
	"github.com/klarna-mock/klarna-mock/mockserver/storetest"
)

// The rules every store keeps (scoping, aborts, quotas, eviction, retention, forgetting a tenant,
// the webhook package's listings) are checked by the conformance suite, mockserver/storetest,
// which TestConformance runs on this store.

func TestDefaults(t *testing.T) {
	t.Parallel()
	s, err := memdb.New(memdb.Config{})
	require.NoError(t, err)
	for i := range memdb.DefaultMaxPerTenant {
		require.NoError(t, s.Update(func(tx mockserver.Tx) error {
			return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenantA), Token: fmt.Sprint(i), Status: mockserver.TokenActive})
		}))
	}
	storetest.RequireQuotaExceeded(t, s.Update(func(tx mockserver.Tx) error {
		return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenantA), Token: "one-more"})
	}))
	// Without a clock, the wall clock tells whether an object finished.
	require.NoError(t, s.Update(func(tx mockserver.Tx) error {
		return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenantA), Token: "0", Status: mockserver.TokenRevoked, RevokedAt: time.Now().Add(-time.Second)})
	}))
	require.NoError(t, s.Update(func(tx mockserver.Tx) error {
		return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenantA), Token: "one-more"})
	}))
	n, err := s.Prune()
	require.NoError(t, err)
	require.Zero(t, n, "nothing finished a whole DefaultRetention ago")
}
