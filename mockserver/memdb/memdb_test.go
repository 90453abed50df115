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

// TestObjectsOfASnapshot checks Objects lists what the read transaction's snapshot holds: not an
// object stored since, and still an object evicted or forgotten since.
func TestObjectsOfASnapshot(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 2, 0)
	put := func(id string, done time.Time) {
		t.Helper()
		require.NoError(t, s.Update(func(tx mockserver.Tx) error {
			return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenantA), Token: id, Status: mockserver.TokenRevoked, RevokedAt: done})
		}))
	}
	tokens := func(tx mockserver.Tx) []string {
		t.Helper()
		objs, err := tx.Objects(tenantA)
		require.NoError(t, err)
		var ids []string
		for _, o := range objs {
			ids = append(ids, o.(*mockserver.CustomerToken).Token)
		}
		return ids
	}
	put("a", start.Add(-time.Hour))
	for _, change := range []struct {
		name string
		run  func()
		now  []string
	}{
		{"a new object", func() { put("b", start) }, []string{"a", "b"}},
		{"an eviction", func() { put("c", start) }, []string{"b", "c"}},
		{"a forgotten tenant", func() { require.NoError(t, s.ForgetTenant(tenantA)) }, nil},
	} {
		require.NoError(t, s.View(func(tx mockserver.Tx) error {
			before := tokens(tx)
			change.run()
			require.Equal(t, before, tokens(tx), "after %s, the snapshot's objects", change.name)
			return nil
		}))
		require.NoError(t, s.View(func(tx mockserver.Tx) error {
			require.Equal(t, change.now, tokens(tx), "after %s, the objects now", change.name)
			return nil
		}))
	}
	require.NoError(t, s.Update(func(tx mockserver.Tx) error {
		require.NoError(t, tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenantA), Token: "d"}))
		require.Equal(t, []string{"d"}, tokens(tx), "a write transaction lists its own writes")
		return nil
	}))
}
