package postgres_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/cputime"
	"github.com/klarna-mock/klarna-mock/mockserver/journal"
	"github.com/klarna-mock/klarna-mock/mockserver/journal/journaltest"
	"github.com/klarna-mock/klarna-mock/mockserver/postgres"
	"github.com/klarna-mock/klarna-mock/mockserver/storetest"
)

// openJournal starts the journal of a store on url (a fresh schema when empty), both closed when
// t ends, the journal first.
func openJournal(t *testing.T, url string) (*postgres.Store, *postgres.Journal) {
	t.Helper()
	s := open(t, postgres.Config{URL: url})
	j := s.Journal(slog.New(slog.DiscardHandler))
	t.Cleanup(j.Close)
	return s, j
}

// TestJournalConformance runs the journal stores' conformance suite on the database's journal;
// forgetting a tenant there is the store's ForgetTenant, as a reset does.
func TestJournalConformance(t *testing.T) {
	t.Parallel()
	journaltest.Run(t, func(t *testing.T) (journal.Store, func(string)) {
		s, j := openJournal(t, "")
		return j, func(tenant string) {
			j.Forget(tenant)
			require.NoError(t, s.ForgetTenant(tenant))
		}
	})
}

// TestJournalAcrossStores records on one store's journal and lists on another's on the same
// database, as two mocks do: an entry is listed by the other as soon as Record returned, and
// both stores' entries of a tenant are in one order.
func TestJournalAcrossStores(t *testing.T) {
	t.Parallel()
	url := storetest.Database(t)
	_, a := openJournal(t, url)
	_, b := openJournal(t, url)
	for i := range 20 {
		rec, other := a, b
		if i%2 == 1 {
			rec, other = b, a
		}
		path := fmt.Sprint("/call/", i)
		rec.Record(t.Context(), "shared", "shared/a", entry(path, "{}"))
		got, err := other.List(t.Context(), "shared", journal.Filter{PathContains: path})
		require.NoError(t, err)
		require.Len(t, got, 1, "%s is listed by the other store", path)
	}
	all, err := b.List(t.Context(), "shared", journal.Filter{})
	require.NoError(t, err)
	require.Len(t, all, 20)
	for i, e := range all {
		require.Equal(t, fmt.Sprint("/call/", i), e.Path)
	}
}

// entry is the journal entry of a POST to path with body.
func entry(path, body string) journal.Entry {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	return journal.NewEntry(time.Now(), r, []byte(body), http.StatusOK, "", "", nil)
}

// rowsOf counts the tenant's rows in the journal table and the bytes they count.
func rowsOf(t *testing.T, url, tenant string) (n, bytes int) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	defer func() { _ = conn.Close(context.Background()) }()
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT count(*), coalesce(sum(bytes), 0) FROM journal WHERE tenant = $1`, tenant).Scan(&n, &bytes))
	return n, bytes
}

// settled returns the tenant's rows once ok accepts them, or as they are after ten seconds: the
// writer prunes a tenant's journal after it released the calls of the batch that made it due.
func settled(t *testing.T, url, tenant string, ok func(n, bytes int) bool) (n, bytes int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n, bytes = rowsOf(t, url, tenant)
		if ok(n, bytes) || time.Now().After(deadline) {
			return n, bytes
		}
	}
}

// TestJournalBounds checks the writer prunes a tenant's rows back to journal.PerTenant entries
// and journal.BytesPerTenant bytes as it writes them, within a tenth of each bound, the newest
// kept, and leaves another tenant's rows alone.
func TestJournalBounds(t *testing.T) {
	t.Parallel()
	url := storetest.Database(t)
	_, j := openJournal(t, url)
	j.Record(t.Context(), "quiet", "quiet/a", entry("/quiet", "{}"))
	const calls = journal.PerTenant + journal.PerTenant/2
	for i := range calls {
		j.Record(t.Context(), "busy", "busy/a", entry(fmt.Sprint("/busy/", i), "{}"))
	}
	n, _ := settled(t, url, "busy", func(n, _ int) bool { return n < journal.PerTenant+journal.PerTenant/10 })
	require.GreaterOrEqual(t, n, journal.PerTenant)
	require.Less(t, n, journal.PerTenant+journal.PerTenant/10, "the writer pruned the tenant's rows")
	listed, err := j.List(t.Context(), "busy", journal.Filter{})
	require.NoError(t, err)
	require.Len(t, listed, journal.PerTenant, "List returns the newest PerTenant whatever is not pruned yet")
	require.Equal(t, fmt.Sprint("/busy/", calls-1), listed[len(listed)-1].Path)
	require.Equal(t, fmt.Sprint("/busy/", calls-journal.PerTenant), listed[0].Path)

	big := strings.Repeat("x", journal.MaxBody)
	for i := range 2 * journal.BytesPerTenant / journal.MaxBody {
		j.Record(t.Context(), "heavy", "heavy/a", entry(fmt.Sprint("/heavy/", i), big))
	}
	_, bytes := settled(t, url, "heavy", func(_, bytes int) bool {
		return bytes <= journal.BytesPerTenant+journal.BytesPerTenant/10+journal.MaxBody
	})
	require.LessOrEqual(t, bytes, journal.BytesPerTenant+journal.BytesPerTenant/10+journal.MaxBody)
	require.Greater(t, bytes, journal.BytesPerTenant-journal.MaxBody, "no more was pruned than needed")

	n, _ = rowsOf(t, url, "quiet")
	require.Equal(t, 1, n, "another tenant's rows are not pruned")
	require.Zero(t, j.Lost())
}

// TestJournalClosed checks an entry recorded after Close is counted lost at once, without a wait,
// and one recorded before is stored by Close.
func TestJournalClosed(t *testing.T) {
	t.Parallel()
	url := storetest.Database(t)
	_, j := openJournal(t, url)
	j.Record(t.Context(), "t1", "t1/a", entry("/before", ""))
	j.Close()
	began := time.Now()
	j.Record(t.Context(), "t1", "t1/a", entry("/after", ""))
	require.Less(t, time.Since(began), time.Second)
	require.Equal(t, uint64(1), j.Lost())
	n, _ := rowsOf(t, url, "t1")
	require.Equal(t, 1, n)
}

// BenchmarkJournalRecord records entries the size of an authorize call's from 16 goroutines at
// once, as the mock's handlers do, and reports the journal's own CPU per entry (group commit
// included) and the entries stored per INSERT on average.
func BenchmarkJournalRecord(b *testing.B) {
	url := storetest.Database(b)
	s, err := postgres.Open(b.Context(), postgres.Config{URL: url})
	require.NoError(b, err)
	b.Cleanup(s.Close)
	j := s.Journal(slog.New(slog.DiscardHandler))
	e := entry("/v2/accounts/a/payment/authorize", strings.Repeat("x", 600))
	e.Answer = strings.Repeat("y", 1500)
	b.SetParallelism(8)
	cpu := cputime.Process()
	began := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			j.Record(context.Background(), "bench", "bench/a", e)
		}
	})
	b.StopTimer()
	elapsed, cpu := time.Since(began), cputime.Process()-cpu
	j.Close()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "entries/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(b.N)/float64(max(j.Batches(), 1)), "entries/insert")
	require.Zero(b, j.Lost())
}
