package journal

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRingBounds checks both bounds of a tenant's journal: the entry count and the bytes of
// bodies, the oldest going first, in order across the ring's wrap, and that the ring's room
// stays within a few times what it keeps, also once a ring of many small entries takes large ones.
func TestRingBounds(t *testing.T) {
	t.Parallel()
	entry := func(seq int, body string) kept { return kept{Entry: Entry{Seq: uint64(seq), Body: body}} }
	t.Run("bytes", func(t *testing.T) {
		t.Parallel()
		var r ring
		body := strings.Repeat("x", MaxBody)
		for i := range 200 {
			r.push(entry(i+1, body))
		}
		kept := r.kept()
		require.LessOrEqual(t, r.bytes, BytesPerTenant)
		require.Equal(t, BytesPerTenant/MaxBody, len(kept))
		require.Equal(t, uint64(200), kept[len(kept)-1].Seq, "the newest is kept")
		require.Equal(t, uint64(200-len(kept)+1), kept[0].Seq, "the oldest go first")
		require.LessOrEqual(t, cap(r.entries), 4*len(kept)+4)
	})
	t.Run("count", func(t *testing.T) {
		t.Parallel()
		var r ring
		for i := range 3 * PerTenant {
			r.push(entry(i+1, "{}"))
		}
		kept := r.kept()
		require.Len(t, kept, PerTenant)
		require.Equal(t, uint64(2*PerTenant+1), kept[0].Seq)
		for i, e := range kept {
			require.Equal(t, kept[0].Seq+uint64(i), e.Seq, "in the order received")
		}
		require.Equal(t, 2*PerTenant, r.bytes)
		require.Len(t, r.entries, PerTenant, "no room beyond the bound")
	})
	t.Run("room given back", func(t *testing.T) {
		t.Parallel()
		var r ring
		for i := range PerTenant {
			r.push(entry(i+1, "{}"))
		}
		body := strings.Repeat("x", MaxBody)
		for i := range 2 * BytesPerTenant / MaxBody {
			r.push(entry(PerTenant+i+1, body))
		}
		kept := r.kept()
		require.Len(t, kept, BytesPerTenant/MaxBody)
		require.Equal(t, uint64(PerTenant+2*BytesPerTenant/MaxBody), kept[len(kept)-1].Seq)
		require.LessOrEqual(t, len(r.entries), 4*len(kept)+minRing)
	})
	t.Run("one oversized entry is still kept", func(t *testing.T) {
		t.Parallel()
		var r ring
		r.push(entry(1, strings.Repeat("y", BytesPerTenant+1)))
		require.Len(t, r.kept(), 1)
	})
}

// TestBytesTotal checks the journal's bound for all tenants together: heavy tenants lose their
// own oldest entries, a light tenant keeps all of its, and forgetting a tenant frees its part.
func TestBytesTotal(t *testing.T) {
	t.Parallel()
	m := NewMemory()
	record := func(tenant string, body string) {
		m.Record(t.Context(), tenant, tenant+"/a", Entry{Method: "POST", Path: "/v2/accounts/a/payment/authorize", Body: body, Status: 200})
	}
	for range 10 {
		record("light", "{}")
	}
	// Each heavy tenant alone stays within its own BytesPerTenant; six of them are more than the
	// total.
	big := strings.Repeat("x", MaxBody)
	for i := range 6 * 100 {
		record(fmt.Sprint("heavy-", i%6), big)
	}
	sum := 0
	for name, r := range m.tenants {
		sum += r.cost()
		if strings.HasPrefix(name, "heavy-") {
			require.Less(t, r.n, BytesPerTenant/MaxBody, "%s lost entries to the total", name)
		}
	}
	require.Equal(t, sum, m.cost)
	require.LessOrEqual(t, m.cost, BytesTotal)
	require.Greater(t, m.cost, BytesTotal-MaxBody-entryCost, "the journal is full, no more was dropped than needed")
	light, err := m.List(t.Context(), "light", Filter{Scope: "light/a", Limit: 100})
	require.NoError(t, err)
	require.Len(t, light, 10, "the light tenant keeps all of its entries")

	heavy := m.tenants["heavy-0"].cost()
	m.Forget("heavy-0")
	require.Equal(t, sum-heavy, m.cost)
}

// kept is the ring's entries, oldest first.
func (r *ring) kept() []kept {
	out := make([]kept, r.n)
	for i := range out {
		out[i] = *r.at(i)
	}
	return out
}
