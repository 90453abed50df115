package postgres

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestQueriesUseAnIndex checks that the queries on objects that migration 0007 changed the
// indexes under still find their rows through an index in a generic plan, the plan a prepared
// statement settles on, in which the kinds and accounts are parameters: the partial index
// objects_account for the listings by account, objects_done for the retention's finished objects.
func TestQueriesUseAnIndex(t *testing.T) {
	t.Parallel()
	s := testStore(t, Config{})
	ctx := context.Background()
	conn, err := s.pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	// Enough rows of several kinds and tenants that a scan of the whole table costs more than an
	// index, as in a sandbox used for a while.
	_, err = conn.Exec(ctx, `
		INSERT INTO objects (kind, id, tenant, account, done_at, body)
		SELECT (ARRAY['payment_transaction', 'payment_request', 'customer_token', 'notification_webhook',
			'notification_delivery'])[1 + g % 5], 'id' || g, 't' || g % 50, 't' || g % 50,
			CASE WHEN g % 3 = 0 THEN g ELSE 9223372036854775807 END, '\x00'
		FROM generate_series(1, 20000) g`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `ANALYZE objects`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `SET plan_cache_mode = force_generic_plan`)
	require.NoError(t, err)
	listSQL := `SELECT body FROM objects WHERE kind = $1 AND account = $2 AND ($3 = '' OR parent = $3) AND ` +
		notificationKinds + ` ORDER BY seq LIMIT $4`
	for _, q := range []struct{ name, sql, index string }{
		{"emit", emitSQL, "objects_account"},
		{"waiting", waitingSQL, "objects_account"},
		{"claimState", claimStateSQL, "objects_account"},
		{"list", listSQL, "objects_account"},
		{"prune", pruneSQL, "objects_done"},
		{"emits", emitsSQL, "objects_account"},
		{"puts", putsSQL, "tenant_counts_pkey"},
	} {
		_, err := conn.Exec(ctx, "PREPARE "+q.name+" AS "+q.sql)
		require.NoError(t, err, q.name)
		// A generic plan is the same whatever the values: NULL for each parameter.
		nulls := strings.TrimSuffix(strings.Repeat("NULL, ", params(q.sql)), ", ")
		rows, err := conn.Query(ctx, "EXPLAIN EXECUTE "+q.name+"("+nulls+")")
		require.NoError(t, err, q.name)
		var plan []string
		for rows.Next() {
			var line string
			require.NoError(t, rows.Scan(&line))
			plan = append(plan, line)
		}
		require.NoError(t, rows.Err())
		text := strings.Join(plan, "\n")
		require.Contains(t, text, q.index, "%s:\n%s", q.name, text)
		require.NotContains(t, text, "Seq Scan on objects", "%s:\n%s", q.name, text)
	}
}

// params returns how many parameters a statement takes: the highest $N in it.
func params(sql string) int {
	n := 0
	for _, m := range regexp.MustCompile(`\$(\d+)`).FindAllStringSubmatch(sql, -1) {
		v, _ := strconv.Atoi(m[1])
		n = max(n, v)
	}
	return n
}
