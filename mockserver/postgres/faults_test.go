package postgres_test

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/faults"
	"github.com/klarna-mock/klarna-mock/mockserver/postgres"
	"github.com/klarna-mock/klarna-mock/mockserver/rules"
	"github.com/klarna-mock/klarna-mock/mockserver/storetest"
)

var faultsNow = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

// noFacts is the facts of a call that is not an authorize.
func noFacts() *rules.Facts { return nil }

// faultView is a fault as a registry saves it.
func faultView(id string, def faults.Definition) faults.View {
	return faults.View{ID: id, Definition: def, CreatedAt: faultsNow}
}

// TestFaultsOfTwoStores saves, lists and removes a tenant's faults through two stores on one
// database: one store reads what the other saved as it was saved (the conditions' text, the
// creation to the nanosecond, oldest first), the tenant's limit holds across them, and every change
// moves the tenant's version on to one it never had.
func TestFaultsOfTwoStores(t *testing.T) {
	t.Parallel()
	url := storetest.Database(t)
	a, b := open(t, postgres.Config{URL: url}).Faults(), open(t, postgres.Config{URL: url}).Faults()
	seed := int64(7)
	first := faultView("f1", faults.Definition{Operations: []faults.Operation{faults.Authorize}, Effect: faults.Error, Status: 503,
		When: json.RawMessage(`{"email":"chaos@shop.example"}`), Count: 3})
	second := faultView("f2", faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Drop, Probability: 0.25, Seed: &seed})
	versions := map[int64]bool{}
	version := func(tenant string) int64 {
		t.Helper()
		all, err := b.Versions()
		require.NoError(t, err)
		v := all[tenant]
		require.False(t, versions[v], "version %d came back", v)
		versions[v] = true
		return v
	}
	for _, v := range []faults.View{first, second} {
		saved, err := a.Save("tenant", v, 2)
		require.NoError(t, err)
		require.True(t, saved)
		version("tenant")
	}
	saved, err := b.Save("tenant", faultView("f3", first.Definition), 2)
	require.NoError(t, err)
	require.False(t, saved, "the tenant holds its limit, whichever mock saved them")

	held, v, err := b.Load("tenant")
	require.NoError(t, err)
	require.Equal(t, []faults.View{first, second}, held)
	all, err := a.Versions()
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"tenant": v}, all)
	none, v, err := b.Load("other")
	require.NoError(t, err)
	require.Empty(t, none)
	require.Zero(t, v, "a tenant without faults has no version")

	found, err := b.Delete("tenant", "f1")
	require.NoError(t, err)
	require.True(t, found)
	version("tenant")
	found, err = a.Delete("tenant", "f1")
	require.NoError(t, err)
	require.False(t, found, "deleted on the other store already")
	found, err = a.Delete("other", "f2")
	require.NoError(t, err)
	require.False(t, found, "another tenant's fault")
	require.NoError(t, a.Clear("tenant"))
	version("tenant")
	held, _, err = b.Load("tenant")
	require.NoError(t, err)
	require.Empty(t, held)
}

// TestFaultCountAcrossStores races two registries, each on a store of its own on one database, as
// two mocks are, for a fault with a count: it hits count calls in all and retires on both, and the
// fired counts each then reads agree.
func TestFaultCountAcrossStores(t *testing.T) {
	t.Parallel()
	url := storetest.Database(t)
	a := faults.NewSharedRegistry(0, open(t, postgres.Config{URL: url}).Faults(), nil)
	b := faults.NewSharedRegistry(0, open(t, postgres.Config{URL: url}).Faults(), nil)
	const count, calls = 5, 40
	unlimited, err := a.Add("tenant", faults.Definition{Operations: []faults.Operation{faults.Tokens}, Effect: faults.Error}, faultsNow)
	require.NoError(t, err)
	counted, err := a.Add("tenant", faults.Definition{Operations: []faults.Operation{faults.Authorize}, Effect: faults.Error, Count: count}, faultsNow)
	require.NoError(t, err)
	require.NoError(t, b.Sync())
	require.Len(t, b.List("tenant"), 2, "B took up A's faults")

	var hit atomic.Int64
	var wg sync.WaitGroup
	for i := range calls {
		r := a
		if i%2 == 1 {
			r = b
		}
		wg.Go(func() {
			if f := r.Fire("tenant", faults.Authorize, noFacts); f != nil {
				require.Equal(t, counted.ID, f.ID())
				hit.Add(1)
			}
			require.NotNil(t, r.Fire("tenant", faults.Tokens, noFacts))
		})
	}
	wg.Wait()
	require.EqualValues(t, count, hit.Load())
	for _, r := range []*faults.Registry{a, b} {
		require.Nil(t, r.Fire("tenant", faults.Authorize, noFacts), "spent on both")
		require.NoError(t, r.Refresh("tenant"))
		listed := r.List("tenant")
		require.Len(t, listed, 1, "the spent fault retired")
		require.Equal(t, unlimited.ID, listed[0].ID)
		require.EqualValues(t, calls, listed[0].Fired, "every call on either counted")
	}
}

// TestFaultsGoWithTheTenant checks that forgetting a tenant removes its faults and its version,
// and that a fault removed on one store is not claimed through the other.
func TestFaultsGoWithTheTenant(t *testing.T) {
	t.Parallel()
	url := storetest.Database(t)
	sa, sb := open(t, postgres.Config{URL: url}), open(t, postgres.Config{URL: url})
	a, b := sa.Faults(), sb.Faults()
	for _, tenant := range []string{"gone", "kept"} {
		saved, err := a.Save(tenant, faultView("f-"+tenant, faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Error}), 10)
		require.NoError(t, err)
		require.True(t, saved)
	}
	fired, ok, err := b.Claim("gone", "f-gone")
	require.NoError(t, err)
	require.True(t, ok)
	require.EqualValues(t, 1, fired)

	require.NoError(t, sb.ForgetTenant("gone"))
	_, ok, err = a.Claim("gone", "f-gone")
	require.NoError(t, err)
	require.False(t, ok, "a forgotten tenant's fault fires no more")
	held, v, err := a.Load("gone")
	require.NoError(t, err)
	require.Empty(t, held)
	require.Zero(t, v)
	versions, err := a.Versions()
	require.NoError(t, err)
	require.Contains(t, versions, "kept")
	require.NotContains(t, versions, "gone")
}

// TestFaultsWithoutTheDatabase checks that a store whose database is gone answers every fault
// call with the Klarna-shaped 503 the rest of the store answers.
func TestFaultsWithoutTheDatabase(t *testing.T) {
	t.Parallel()
	s := open(t, postgres.Config{})
	s.Close()
	b := s.Faults()
	_, err := b.Save("tenant", faultView("f", faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Error}), 10)
	requireUnavailable(t, err)
	_, _, err = b.Claim("tenant", "f")
	requireUnavailable(t, err)
	_, _, err = b.Load("tenant")
	requireUnavailable(t, err)
	_, err = b.Versions()
	requireUnavailable(t, err)
	_, err = b.Delete("tenant", "f")
	requireUnavailable(t, err)
	requireUnavailable(t, b.Clear("tenant"))
}

func requireUnavailable(t *testing.T, err error) {
	t.Helper()
	var ke *mockserver.Error
	require.ErrorAs(t, err, &ke)
	require.Equal(t, 503, ke.Status)
	require.Equal(t, mockserver.CodeServiceUnavailable, ke.ErrorCode)
}
