package tenant_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/tenant"
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestAdmitBoundsNewTenantsOnly(t *testing.T) {
	t.Parallel()
	r := tenant.New(2)
	require.NoError(t, r.Admit("a", start))
	require.NoError(t, r.Admit("b", start))
	err := r.Admit("c", start)
	ke := mockserver.AsError(err)
	require.Equal(t, http.StatusTooManyRequests, ke.Status)
	require.Equal(t, mockserver.CodeQuotaExceeded, ke.ErrorCode)
	require.Contains(t, ke.ErrorMessage, "--max-tenants")
	require.Contains(t, ke.ErrorMessage, "2 tenants")
	require.NoError(t, r.Admit("a", start.Add(time.Minute)), "a known tenant is always admitted")
	require.Equal(t, 2, r.Len())

	r.Forget("b")
	require.Equal(t, 1, r.Len())
	require.NoError(t, r.Admit("c", start), "a forgotten tenant makes room")
	require.Error(t, r.Admit("b", start), "a forgotten tenant is new again")
}

func TestIdleListsTenantsWithoutRecentCalls(t *testing.T) {
	t.Parallel()
	r := tenant.New(10)
	require.NoError(t, r.Admit("old", start))
	require.NoError(t, r.Admit("busy", start))
	require.NoError(t, r.Admit("busy", start.Add(2*time.Hour)))
	// A call that reports an earlier time than one already seen does not make a tenant look idle.
	require.NoError(t, r.Admit("busy", start))
	require.Equal(t, []string{"old"}, r.Idle(start.Add(time.Hour)))
	require.ElementsMatch(t, []string{"old", "busy"}, r.Idle(start.Add(3*time.Hour)))
	require.Empty(t, r.Idle(start), "cutoff is exclusive: a call at the cutoff is not idle")
}

func TestAdmitUnderConcurrencyNeverExceedsTheLimit(t *testing.T) {
	t.Parallel()
	const limit = 50
	r := tenant.New(limit)
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for i := range 200 {
		wg.Go(func() {
			if r.Admit(fmt.Sprintf("t%d", i), start) == nil {
				mu.Lock()
				admitted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Equal(t, limit, admitted)
	require.Equal(t, limit, r.Len())
}
