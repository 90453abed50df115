package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/postgres"
	"github.com/klarna-mock/klarna-mock/mockserver/storetest"
)

// journalPath is the journal of the tests' account.
const journalPath = "/mock/v1/accounts/" + account + "/journal"

// journalPage is what the tests read of a journal page.
type journalPage struct {
	Entries []struct {
		Seq     uint64            `json:"seq"`
		Headers map[string]string `json:"headers"`
	} `json:"entries"`
}

// journalKeys lists the Klarna-Idempotency-Key of each entry of the account's journal path_contains
// keeps, in the order received, with each entry's seq.
func (tn tenant) journalKeys(pathContains string) (keys []string, seqs []uint64) {
	tn.t.Helper()
	rec := tn.send(http.MethodGet, journalPath+"?path_contains="+pathContains, nil)
	require.Equal(tn.t, http.StatusOK, rec.Code, rec.Body.String())
	var page journalPage
	require.NoError(tn.t, json.Unmarshal(rec.Body.Bytes(), &page))
	for _, e := range page.Entries {
		keys = append(keys, e.Headers["Klarna-Idempotency-Key"])
		seqs = append(seqs, e.Seq)
	}
	return keys, seqs
}

// TestJournalAcrossReplicas runs two mocks on one database: a call answered by one is listed by
// the other's journal as soon as the answer reached the client, calls in turn and concurrent
// calls alike, a tenant's entries from both are in one increasing order, and a reset on one
// empties the journal on both.
func TestJournalAcrossReplicas(t *testing.T) {
	t.Parallel()
	db := storetest.Database(t)
	a, _ := replica(t, db, "journal-replicas")
	b, _ := replica(t, db, "journal-replicas")

	var want []string
	for i := range 6 {
		on, other := a, b
		if i%2 == 1 {
			on, other = b, a
		}
		key := fmt.Sprint("turn-", i)
		want = append(want, key)
		on.stepUpWith("Klarna-Idempotency-Key", key)
		keys, _ := other.journalKeys("authorize")
		require.Equal(t, want, keys, "the other replica lists %s at once", key)
	}
	unrouted := a.send(http.MethodPost, "/v2/accounts/"+account+"/no-such-route", []byte(`{}`), "Klarna-Idempotency-Key", "unrouted")
	require.Equal(t, http.StatusNotFound, unrouted.Code)
	keys, _ := b.journalKeys("no-such-route")
	require.Equal(t, []string{"unrouted"}, keys, "a call no route serves is journaled for every replica too")

	// Concurrent clients, each calling A and reading B's journal at once.
	body, err := json.Marshal(purchase(1000, true))
	require.NoError(t, err)
	const clients, calls = 4, 5
	errs := make(chan error, clients*calls)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range calls {
				key := fmt.Sprintf("concurrent-%d-%d", c, i)
				if rec := a.send(http.MethodPost, "/v2/accounts/"+account+"/payment/authorize", body, "Klarna-Idempotency-Key", key); rec.Code != http.StatusOK {
					errs <- fmt.Errorf("%s: %d %s", key, rec.Code, rec.Body.String())
					return
				}
				rec := b.send(http.MethodGet, journalPath+"?path_contains=authorize", nil)
				if !containsKey(rec.Body.Bytes(), key) {
					errs <- fmt.Errorf("%s is not in B's journal right after A answered it: %s", key, rec.Body.String())
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	keysA, seqsA := a.journalKeys("")
	keysB, seqsB := b.journalKeys("")
	require.Len(t, keysA, 6+1+clients*calls)
	require.Equal(t, keysA, keysB)
	require.Equal(t, seqsA, seqsB)
	for i := 1; i < len(seqsA); i++ {
		require.Less(t, seqsA[i-1], seqsA[i])
	}

	require.Equal(t, http.StatusOK, b.do(http.MethodPost, "/mock/v1/reset", nil).status)
	keys, _ = a.journalKeys("")
	require.Empty(t, keys, "a reset on B removes the tenant's journal from the database")
}

// containsKey reports whether a journal page lists an entry sent under the idempotency key.
func containsKey(page []byte, key string) bool {
	var p journalPage
	if json.Unmarshal(page, &p) != nil {
		return false
	}
	for _, e := range p.Entries {
		if e.Headers["Klarna-Idempotency-Key"] == key {
			return true
		}
	}
	return false
}

// stepUpWith starts a purchase that steps up, with headers, and requires it succeeded.
func (tn tenant) stepUpWith(headers ...string) {
	tn.t.Helper()
	a := tn.authorize(purchase(1000, true), headers...)
	require.Equal(tn.t, http.StatusOK, a.status, string(a.raw))
}

// TestJournalSurvivesRestart journals calls on a mock on PostgreSQL, closes it and starts a fresh
// one on the same database: the journal lists them, and the next call's seq goes on from theirs.
func TestJournalSurvivesRestart(t *testing.T) {
	t.Parallel()
	db := storetest.Database(t)
	first, closeFirst := openMock(t, db)
	before := tenantOf(t, first, "journal-restart")
	before.stepUpWith("Klarna-Idempotency-Key", "before-1")
	before.stepUpWith("Klarna-Idempotency-Key", "before-2")
	closeFirst()

	second, _ := openMock(t, db)
	after := tenantOf(t, second, "journal-restart")
	keys, seqs := after.journalKeys("authorize")
	require.Equal(t, []string{"before-1", "before-2"}, keys)
	after.stepUpWith("Klarna-Idempotency-Key", "after")
	keys, next := after.journalKeys("authorize")
	require.Equal(t, []string{"before-1", "before-2", "after"}, keys)
	require.Greater(t, next[2], seqs[1])
}

// TestJournalDatabaseLoss cuts a mock off its database while it journals calls that need nothing
// else of it (calls to routes the mock does not have): a database that stops answering delays
// the answer by at most postgres.JournalWait, one that is gone not at all, the answer is the
// mock's own 404 either way, and once the database is back calls are journaled again.
func TestJournalDatabaseLoss(t *testing.T) {
	t.Parallel()
	db := storetest.Database(t)
	p := newCutProxy(t, db)
	m, _ := openMock(t, p.url(t, db))
	tn := tenantOf(t, m, "journal-loss")
	unrouted := func(key string) {
		t.Helper()
		rec := tn.send(http.MethodPost, "/v2/accounts/"+account+"/no-such-route", []byte(`{}`), "Klarna-Idempotency-Key", key)
		require.Equal(t, http.StatusNotFound, rec.Code, rec.Body.String())
		require.Contains(t, rec.Body.String(), `"error_code":"NOT_FOUND"`)
	}
	unrouted("up")

	p.set(proxySilent)
	began := time.Now()
	unrouted("silent")
	require.Less(t, time.Since(began), postgres.JournalWait+2*time.Second, "a journal write waits JournalWait at most")

	p.set(proxyDown)
	began = time.Now()
	for range 3 {
		unrouted("down")
	}
	require.Less(t, time.Since(began), postgres.JournalWait+2*time.Second)

	p.set(proxyUp)
	require.Eventually(t, func() bool {
		unrouted("back")
		keys, _ := tn.journalKeys("no-such-route")
		return len(keys) > 0 && keys[len(keys)-1] == "back"
	}, 10*time.Second, 50*time.Millisecond)
	keys, _ := tn.journalKeys("no-such-route")
	require.Equal(t, "up", keys[0], "what was stored before the loss is kept")
	require.NotContains(t, keys, "silent")
}
