package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/app"
)

// TestForgettingATenantRemovesItsFaults: a reset, and the prune loop forgetting an idle tenant,
// remove the tenant's faults with the rest of its state, and no other tenant's.
func TestForgettingATenantRemovesItsFaults(t *testing.T) {
	t.Parallel()
	m := newMock(t, app.Config{Retention: time.Hour})
	a, b := tenantOf(t, m, "faults_a"), tenantOf(t, m, "faults_b")
	faults := func(tn tenant) []any {
		return tn.ok(http.MethodGet, "/mock/v1/faults", nil).json["faults"].([]any)
	}
	for _, tn := range []tenant{a, b} {
		r := tn.do(http.MethodPost, "/mock/v1/faults", map[string]any{"operations": []string{"all"}, "effect": "error"})
		require.Equal(t, http.StatusCreated, r.status, string(r.raw))
	}
	a.ok(http.MethodPost, "/mock/v1/reset", nil)
	require.Empty(t, faults(a))
	require.Len(t, faults(b), 1)

	// b holds no objects, and goes idle past the retention: the prune loop forgets it.
	m.Clock.Advance(2 * time.Hour)
	require.NoError(t, m.Prune())
	require.Zero(t, m.Tenants())
	require.Empty(t, faults(b))
}
