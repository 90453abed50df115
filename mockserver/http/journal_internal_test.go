package http

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestJournalRingBounds checks both bounds of a tenant's journal: the entry count and the bytes of
// bodies, the oldest going first, and that the backing slice stays within twice the bound.
func TestJournalRingBounds(t *testing.T) {
	t.Parallel()
	t.Run("bytes", func(t *testing.T) {
		t.Parallel()
		var r journalRing
		body := strings.Repeat("x", JournalMaxBody)
		for i := range 200 {
			r.seq++
			r.push(JournalEntry{Seq: uint64(i + 1), Body: body})
		}
		kept := r.entries[r.head:]
		require.LessOrEqual(t, r.bytes, JournalBytesPerTenant)
		require.Equal(t, JournalBytesPerTenant/JournalMaxBody, len(kept))
		require.Equal(t, uint64(200), kept[len(kept)-1].Seq, "the newest is kept")
		require.Equal(t, uint64(200-len(kept)+1), kept[0].Seq, "the oldest go first")
		require.LessOrEqual(t, cap(r.entries), 4*len(kept)+4)
	})
	t.Run("count", func(t *testing.T) {
		t.Parallel()
		var r journalRing
		for i := range 3 * JournalPerTenant {
			r.push(JournalEntry{Seq: uint64(i + 1), Body: "{}"})
		}
		kept := r.entries[r.head:]
		require.Len(t, kept, JournalPerTenant)
		require.Equal(t, uint64(2*JournalPerTenant+1), kept[0].Seq)
		require.Equal(t, 2*JournalPerTenant, r.bytes)
	})
	t.Run("one oversized entry is still kept", func(t *testing.T) {
		t.Parallel()
		var r journalRing
		r.push(JournalEntry{Seq: 1, Body: strings.Repeat("y", JournalBytesPerTenant+1)})
		require.Len(t, r.entries[r.head:], 1)
	})
}
