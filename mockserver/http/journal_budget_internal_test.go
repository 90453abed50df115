package http

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestJournalBytesTotal checks the journal's bound for all tenants together: heavy tenants lose
// their own oldest entries, a light tenant keeps all of its, and forgetting a tenant frees its part.
func TestJournalBytesTotal(t *testing.T) {
	t.Parallel()
	j := newJournal()
	record := func(tenant string, body string) {
		r := httptest.NewRequest("POST", "/v2/accounts/a/payment/authorize", nil)
		j.record(tenant, tenant+"/a", time.Time{}, r, []byte(body), 200, "", "", nil)
	}
	for range 10 {
		record("light", "{}")
	}
	// Each heavy tenant alone stays within its own JournalBytesPerTenant; six of them are more
	// than the total.
	big := strings.Repeat("x", JournalMaxBody)
	for i := range 6 * 100 {
		record(fmt.Sprint("heavy-", i%6), big)
	}
	sum := 0
	for name, r := range j.tenants {
		sum += r.cost()
		if strings.HasPrefix(name, "heavy-") {
			require.Less(t, len(r.entries)-r.head, JournalBytesPerTenant/JournalMaxBody, "%s lost entries to the total", name)
		}
	}
	require.Equal(t, sum, j.cost)
	require.LessOrEqual(t, j.cost, JournalBytesTotal)
	require.Greater(t, j.cost, JournalBytesTotal-JournalMaxBody-journalEntryCost, "the journal is full, no more was dropped than needed")
	require.Len(t, j.list("light", "light/a", 0, "", 100), 10, "the light tenant keeps all of its entries")

	heavy := j.tenants["heavy-0"].cost()
	j.forget("heavy-0")
	require.Equal(t, sum-heavy, j.cost)
}
