package mockserver_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

func TestNewIDIsThePrefixAndARandomUUID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, prefix := range []string{"", mockserver.PrefixPaymentTransaction, strings.Repeat("p", 200)} {
		for range 100 {
			id := mockserver.NewID(prefix)
			require.True(t, strings.HasPrefix(id, prefix), id)
			rest := id[len(prefix):]
			u, err := uuid.Parse(rest)
			require.NoError(t, err, id)
			require.Equal(t, u.String(), rest, "the canonical lower-case form")
			require.Equal(t, uuid.Version(4), u.Version(), id)
			require.Equal(t, uuid.RFC4122, u.Variant(), id)
			require.False(t, seen[rest], "a repeated id: %s", id)
			seen[rest] = true
		}
	}
}

// TestNewIDAllocatesLessThanUUIDs is not parallel: testing.AllocsPerRun refuses to run in a
// parallel test. The id is one allocation, the string itself.
func TestNewIDAllocatesLessThanUUIDs(t *testing.T) {
	prefix := mockserver.PrefixPaymentTransaction
	ids := testing.AllocsPerRun(100, func() { _ = mockserver.NewID(prefix) })
	uuids := testing.AllocsPerRun(100, func() { _ = prefix + uuid.NewString() })
	require.Less(t, ids, uuids)
	require.Equal(t, 1.0, ids)
}

// BenchmarkNewID is the cost of one transaction id, of which an authorize makes several.
func BenchmarkNewID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = mockserver.NewID(mockserver.PrefixPaymentTransaction)
	}
}
