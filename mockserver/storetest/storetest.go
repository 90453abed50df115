// Package storetest is the one conformance suite of the mock's stores: Run checks a
// mockserver.Store with its webhook.Store against the rules every store keeps (scoping, aborts,
// the per-tenant quota and what makes room, retention, forgetting a tenant, the listings, and
// exactly one winner among concurrent writers). mockserver/memdb runs it always,
// mockserver/postgres whenever a test database is configured (Database), and always under CI.
package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// Store is what the suite tests: the simulator's transactions, the webhook package's, and the
// upkeep of the bounds.
type Store interface {
	mockserver.Store
	Notifications() webhook.Store
	// Prune removes what retention no longer keeps and reports how many objects it removed.
	Prune() (int, error)
	// ForgetTenant removes every object of the tenant.
	ForgetTenant(tenant string) error
	// Count reports how many objects of each kind the tenant holds, keyed by the kind names
	// memdb's Count uses (payment_request, customer_token, ...), kinds it holds none of left out.
	Count(tenant string) (map[string]int, error)
}

// Config is what a test asks of the store it makes; zero fields mean the store's defaults.
type Config struct {
	MaxObjectsPerTenant int
	Retention           time.Duration
	// Clock is the test's manual base clock.
	Clock *clock.Clock
}

// Factory makes an empty store for one test, closed when t ends.
type Factory func(t *testing.T, cfg Config) Store

// Run runs the suite against the stores newStore makes; every test is parallel and makes its own.
func Run(t *testing.T, newStore Factory) {
	tests := []struct {
		name string
		run  func(*testing.T, Factory)
	}{
		{"RoundTrip", testRoundTrip},
		{"ReplaceAbortAndScoping", testReplaceAbortAndScoping},
		{"PaymentRequestByIDAlone", testPaymentRequestByIDAlone},
		{"QuotaFullOfObjectsInUse", testQuotaFullOfObjectsInUse},
		{"RefusedWriteAbortsTheTransaction", testRefusedWriteAbortsTheTransaction},
		{"EvictsFinishedFirstOnTheTenantsClock", testEvictsFinishedFirst},
		{"FloodLeavesOtherTenantsAlone", testFlood},
		{"PruneAfterRetention", testPruneAfterRetention},
		{"PruneFollowsReplacements", testPruneFollowsReplacements},
		{"ForgetTenant", testForgetTenant},
		{"ObjectsAndDeleteTenant", testObjectsAndDeleteTenant},
		{"NotificationsScopedAndOrdered", testNotificationsScopedAndOrdered},
		{"NotificationsDeliveries", testNotificationsDeliveries},
		{"NotificationsBoundedPerTenant", testNotificationsBounded},
		{"OneWinnerUnderConcurrency", testOneWinner},
		{"ManyWritesInOneTransaction", testManyWrites},
		{"Outbox", testOutbox},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore)
		})
	}
}

// open returns a store with the quota and retention on a fresh manual clock.
func open(t *testing.T, newStore Factory, quota int, retention time.Duration) (Store, *clock.Clock) {
	base := clock.NewManual(start)
	return newStore(t, Config{MaxObjectsPerTenant: quota, Retention: retention, Clock: base}), base
}

// testRoundTrip stores an object of every kind with every field set, fields the wire format
// leaves out and empty (not nil) lists included, and reads back what it stored.
func testRoundTrip(t *testing.T, newStore Factory) {
	s, _ := open(t, newStore, 0, 0)
	at := start.Add(time.Minute)
	pr := &mockserver.PaymentRequest{
		AccountID: scope(tenantA), PaymentRequestID: "pr", PaymentRequestReference: "ref", Amount: 1234, Currency: "EUR",
		State: mockserver.StateCompleted, PreviousState: mockserver.StateInProgress, StateReason: "why",
		StateContext: &mockserver.StateContext{
			CustomerInteraction:       &mockserver.CustomerInteraction{Method: "HANDOVER", PaymentRequestURL: "https://x/pr", PaymentRequestID: "pr", ReturnURL: "https://r"},
			KlarnaNetworkSessionToken: "nst", PaymentToken: "nst",
			KlarnaCustomer: &mockserver.KlarnaCustomer{CustomerToken: "ct", CustomerTokenReference: "ctref"},
		},
		CreatedAt: start, UpdatedAt: at, ExpiresAt: inUse, CompletedAt: &at,
		ChargedToken:  "charged",
		IssuedToken:   &mockserver.CustomerToken{AccountID: scope(tenantA), Token: "ct", Scopes: []string{"payment:customer_not_present"}, Status: mockserver.TokenActive, CreatedAt: at, Email: "e@x"},
		TransactionID: "tr", FinalizedAt: &at,
	}
	pr.SetInitialRequest(&mockserver.AuthorizeRequest{
		Currency:                  "EUR",
		RequestPaymentTransaction: &mockserver.PaymentTransactionRequest{Amount: 1234, PaymentTransactionReference: "tref", Capture: "AUTOMATIC"},
		RequestCustomerToken:      &mockserver.CustomerTokenRequest{Scopes: []string{}, CustomerTokenReference: "ctref"},
		KlarnaNetworkData:         `{"a":1}`,
	})
	tr := &mockserver.PaymentTransaction{
		AccountID: scope(tenantA), PaymentTransactionID: "tr", Amount: 1234, Currency: "EUR", State: mockserver.TransactionAuthorized,
		PaymentFunding: mockserver.PaymentFunding{Type: "CARD", State: "FUNDED"}, CreatedAt: start, ExpiresAt: inUse,
		PaymentCaptures: []mockserver.PaymentCapture{}, UpdatedAt: at, ReleasedAmount: 5, Operations: 2,
		NetworkSessionToken: "nst", CustomerToken: "ct",
	}
	ct := &mockserver.CustomerToken{AccountID: scope(tenantA), Token: "ct", Scopes: []string{}, Status: mockserver.TokenRevoked, CreatedAt: start, Email: "e@x", RevokedAt: at}
	ns := &mockserver.NetworkSession{Token: "nst", AccountID: scope(tenantA), PaymentRequestID: "pr", Email: "e@x", Consent: true, Scopes: []string{"s"}, ExpiresAt: inUse}
	idem := &mockserver.IdempotencyRecord{Scope: idempotencyScope(tenantA), Tenant: tenantA, Key: "k", BodyDigest: [32]byte{1, 2, 3}, Status: 200,
		Header: map[string]string{"Klarna-Mock-Rule": "r"}, Body: []byte(`{"ok":true}`), ExpiresAt: inUse.UnixNano()}
	key := &webhook.SigningKey{AccountID: tenantA, SigningKeyID: "key", CreatedAt: start, Secret: "secret"}
	hook := &webhook.Webhook{AccountID: tenantA, WebhookID: "hook", URL: "https://h", EventTypes: []string{"*"}, EventVersion: "v2", SigningKeyID: "key", Status: webhook.StatusEnabled, CreatedAt: start, UpdatedAt: at}
	delivery := &webhook.Delivery{AccountID: tenantA, DeliveryID: "d", WebhookID: "hook", State: webhook.DeliveryPending,
		Event: webhook.EventMetadata{EventType: "payment.request.state-change.submitted", EventID: "e", EventVersion: "v2", OccurredAt: start}, Subject: "pr",
		Attempts: []webhook.Attempt{}, NextAttemptAt: &at, CreatedAt: start, UpdatedAt: start, Body: []byte(`{"metadata":{}}`)}

	require.NoError(t, s.Update(func(tx mockserver.Tx) error {
		return errors.Join(tx.PutPaymentRequest(pr), tx.PutPaymentTransaction(tr), tx.PutCustomerToken(ct), tx.PutNetworkSession(ns), tx.PutIdempotent(idem))
	}))
	require.NoError(t, s.Notifications().Update(func(tx webhook.Tx) error {
		return errors.Join(tx.PutSigningKey(key), tx.PutWebhook(hook), tx.PutDelivery(delivery))
	}))
	require.NoError(t, s.View(func(tx mockserver.Tx) error {
		requireRead(t, pr)(tx.PaymentRequest(scope(tenantA), "pr"))
		requireRead(t, tr)(tx.PaymentTransaction(scope(tenantA), "tr"))
		requireRead(t, ct)(tx.CustomerToken(scope(tenantA), "ct"))
		requireRead(t, ns)(tx.NetworkSession(scope(tenantA), "nst"))
		requireRead(t, idem)(tx.Idempotent(idempotencyScope(tenantA), "k"))
		return nil
	}))
	require.NoError(t, s.Notifications().View(func(tx webhook.Tx) error {
		requireRead(t, key)(tx.SigningKey(tenantA, "key"))
		requireRead(t, hook)(tx.Webhook(tenantA, "hook"))
		requireRead(t, delivery)(tx.Delivery(tenantA, "d"))
		return nil
	}))
}

// requireRead returns a check that a read succeeded and gave back want, to call with the read's
// results.
func requireRead[T any](t *testing.T, want T) func(T, error) {
	return func(got T, err error) {
		t.Helper()
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}

func testReplaceAbortAndScoping(t *testing.T, newStore Factory) {
	s, _ := open(t, newStore, 2, 0)
	put := func(id, ref string) error {
		return s.Update(func(tx mockserver.Tx) error {
			return tx.PutPaymentTransaction(&mockserver.PaymentTransaction{AccountID: scope(tenantA), PaymentTransactionID: id, PaymentTransactionReference: ref})
		})
	}
	require.NoError(t, put("tx-1", "first"))
	require.NoError(t, put("tx-2", "first"))
	// Replacing never counts against the quota, even in a full table.
	require.NoError(t, put("tx-1", "second"))
	require.Equal(t, map[string]int{"payment_transaction": 2}, count(t, s, tenantA))

	boom := errors.New("boom")
	require.ErrorIs(t, s.Update(func(tx mockserver.Tx) error {
		if err := tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenantA), Token: "tok"}); err != nil {
			return err
		}
		return boom
	}), boom)
	require.Equal(t, map[string]int{"payment_transaction": 2}, count(t, s, tenantA), "an aborted transaction adds nothing")
	require.Panics(t, func() {
		_ = s.Update(func(tx mockserver.Tx) error {
			if err := tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenantA), Token: "tok"}); err != nil {
				return err
			}
			panic("boom")
		})
	})
	require.Equal(t, map[string]int{"payment_transaction": 2}, count(t, s, tenantA), "nor does one that panicked")

	require.NoError(t, s.View(func(tx mockserver.Tx) error {
		tr, err := tx.PaymentTransaction(scope(tenantA), "tx-1")
		require.NoError(t, err)
		require.Equal(t, "second", tr.PaymentTransactionReference)
		_, err = tx.CustomerToken(scope(tenantA), "tok")
		require.ErrorIs(t, err, mockserver.ErrNotFound)
		_, err = tx.PaymentTransaction(scope(tenantB), "tx-1")
		require.ErrorIs(t, err, mockserver.ErrNotFound, "another account's object is not found")
		_, err = tx.PaymentTransaction(mockserver.Scope(tenantA, "partner-2"), "tx-1")
		require.ErrorIs(t, err, mockserver.ErrNotFound, "nor is another partner account's of the same tenant")
		return nil
	}))

	require.Error(t, s.View(func(tx mockserver.Tx) error {
		return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenantA), Token: "tok"})
	}), "no writes in a read transaction")
	err := s.Update(func(tx mockserver.Tx) error {
		return tx.PutPaymentTransaction(&mockserver.PaymentTransaction{AccountID: scope(tenantB), PaymentTransactionID: "tx-1"})
	})
	var ke *mockserver.Error
	require.ErrorAs(t, err, &ke, "a tenant cannot overwrite another tenant's object")
	require.Equal(t, mockserver.CodeAlreadyExists, ke.ErrorCode)
	require.Empty(t, count(t, s, tenantB))
}

func testPaymentRequestByIDAlone(t *testing.T, newStore Factory) {
	s, _ := open(t, newStore, 0, 0)
	pr := &mockserver.PaymentRequest{AccountID: scope(tenantA), PaymentRequestID: "pr-1", State: mockserver.StateSubmitted}
	require.NoError(t, s.Update(func(tx mockserver.Tx) error { return tx.PutPaymentRequest(pr) }))
	check := func(tx mockserver.Tx) error {
		got, err := tx.PaymentRequest("", "pr-1")
		require.NoError(t, err, "the Purchase Journey reaches a request by its id alone")
		require.Equal(t, pr, got)
		_, err = tx.PaymentRequest(scope(tenantB), "pr-1")
		require.ErrorIs(t, err, mockserver.ErrNotFound)
		return nil
	}
	require.NoError(t, s.View(check))
	require.NoError(t, s.Update(check), "in a write transaction too")
}

// testQuotaFullOfObjectsInUse checks, for every kind, that a new object in a table full of the
// tenant's objects still in use is refused with the 429 and changes nothing, while the tenant's
// other kinds and other tenants are not held back.
func testQuotaFullOfObjectsInUse(t *testing.T, newStore Factory) {
	const quota = 3
	cases := kindCases()
	for i, c := range cases {
		t.Run(c.table, func(t *testing.T) {
			t.Parallel()
			s, _ := open(t, newStore, quota, 0)
			for n := range quota {
				require.NoError(t, c.put(s, tenantA, fmt.Sprint("a-", n), time.Time{}))
			}
			require.NoError(t, c.put(s, tenantB, "b-0", time.Time{}))

			RequireQuotaExceeded(t, c.put(s, tenantA, "a-new", time.Time{}))
			require.ErrorIs(t, c.get(s, tenantA, "a-new"), mockserver.ErrNotFound)
			for n := range quota {
				require.NoError(t, c.get(s, tenantA, fmt.Sprint("a-", n)))
			}
			require.Equal(t, map[string]int{c.table: quota}, count(t, s, tenantA))

			require.NoError(t, c.put(s, tenantA, "a-1", time.Time{}), "replacing still works")
			other := cases[(i+1)%len(cases)]
			require.NoError(t, other.put(s, tenantA, "a-other", time.Time{}), "another kind has its own quota")
			require.NoError(t, c.put(s, tenantB, "b-1", time.Time{}), "another tenant has its own quota")
			require.Equal(t, map[string]int{c.table: 2}, count(t, s, tenantB))
		})
	}
}

func testRefusedWriteAbortsTheTransaction(t *testing.T, newStore Factory) {
	s, _ := open(t, newStore, 1, 0)
	live := func(id, ref string) *mockserver.PaymentRequest {
		return &mockserver.PaymentRequest{AccountID: scope(tenantA), PaymentRequestID: id, PaymentRequestReference: ref, State: mockserver.StateSubmitted}
	}
	require.NoError(t, s.Update(func(tx mockserver.Tx) error { return tx.PutPaymentRequest(live("pr-1", "first")) }))
	err := s.Update(func(tx mockserver.Tx) error {
		if err := tx.PutPaymentRequest(live("pr-1", "changed")); err != nil {
			return err
		}
		if err := tx.PutNetworkSession(&mockserver.NetworkSession{AccountID: scope(tenantA), Token: "ns"}); err != nil {
			return err
		}
		return tx.PutPaymentRequest(live("pr-2", "new"))
	})
	RequireQuotaExceeded(t, err)
	require.NoError(t, s.View(func(tx mockserver.Tx) error {
		pr, err := tx.PaymentRequest(scope(tenantA), "pr-1")
		require.NoError(t, err)
		require.Equal(t, "first", pr.PaymentRequestReference)
		_, err = tx.NetworkSession(scope(tenantA), "ns")
		require.ErrorIs(t, err, mockserver.ErrNotFound)
		return nil
	}))
	require.Equal(t, map[string]int{"payment_request": 1}, count(t, s, tenantA))
}

// testEvictsFinishedFirst checks the order of eviction (earliest DoneAt first, live objects
// never) and that "finished" is judged on the tenant's own clock.
func testEvictsFinishedFirst(t *testing.T, newStore Factory) {
	s, base := open(t, newStore, 3, 0)
	request := func(tenant, id, state string, at time.Time) *mockserver.PaymentRequest {
		return &mockserver.PaymentRequest{AccountID: scope(tenant), PaymentRequestID: tenant + "/" + id, State: state, UpdatedAt: at, CompletedAt: &at}
	}
	put := func(prs ...*mockserver.PaymentRequest) error {
		return s.Update(func(tx mockserver.Tx) error {
			for _, pr := range prs {
				if err := tx.PutPaymentRequest(pr); err != nil {
					return err
				}
			}
			return nil
		})
	}
	has := func(tenant string, ids ...string) {
		t.Helper()
		require.NoError(t, s.View(func(tx mockserver.Tx) error {
			for _, id := range ids {
				_, err := tx.PaymentRequest(scope(tenant), tenant+"/"+id)
				require.NoError(t, err, id)
			}
			objs, err := tx.Objects(tenant)
			require.NoError(t, err)
			listed := idsOf(objs, func(o mockserver.Retained) string { return o.(*mockserver.PaymentRequest).PaymentRequestID })
			require.Equal(t, idsOf(ids, func(id string) string { return tenant + "/" + id }), listed,
				"Objects lists what eviction left, in the order first stored")
			return nil
		}))
		require.Equal(t, map[string]int{"payment_request": len(ids)}, count(t, s, tenant))
	}

	require.NoError(t, put(
		request(tenantA, "live", mockserver.StateInProgress, start),
		request(tenantA, "done-1h", mockserver.StateDeclined, start.Add(-time.Hour)),
		request(tenantA, "done-2h", mockserver.StateExpired, start.Add(-2*time.Hour)),
	))
	require.NoError(t, put(request(tenantA, "new-1", mockserver.StateSubmitted, start)))
	has(tenantA, "live", "done-1h", "new-1")
	require.NoError(t, put(request(tenantA, "new-2", mockserver.StateSubmitted, start)))
	has(tenantA, "live", "new-1", "new-2")
	RequireQuotaExceeded(t, put(request(tenantA, "new-3", mockserver.StateSubmitted, start)))

	// A COMPLETED request is needed for the final authorize's window: it finishes an hour on.
	for _, tenant := range []string{tenantA, tenantB} {
		require.NoError(t, put(
			request(tenant, "live", mockserver.StateCompleted, start),
			request(tenant, "new-1", mockserver.StateInProgress, start),
			request(tenant, "new-2", mockserver.StateInProgress, start),
		))
	}
	RequireQuotaExceeded(t, put(request(tenantA, "new-3", mockserver.StateSubmitted, start)))
	base.Tenant(tenantA).Advance(mockserver.NetworkSessionWindow)
	require.NoError(t, put(request(tenantA, "new-3", mockserver.StateSubmitted, start)))
	has(tenantA, "new-1", "new-2", "new-3")
	RequireQuotaExceeded(t, put(request(tenantB, "new-3", mockserver.StateSubmitted, start)), "B's clock has not moved")
	has(tenantB, "live", "new-1", "new-2")
}

// testFlood has tenant A store many finished objects, from several goroutines, at a small quota
// while tenant B reads its own: every one of A's writes succeeds by dropping A's own oldest
// finished object, and none of B's objects, finished as they are, is touched.
func testFlood(t *testing.T, newStore Factory) {
	const quota, inserts, writers = 20, 1_000, 4
	s, _ := open(t, newStore, quota, 0)
	cases := kindCases()
	want := map[string]int{}
	for _, c := range cases {
		require.NoError(t, c.put(s, tenantB, "b-"+c.table, start.Add(-time.Hour)), c.table)
		want[c.table] = 1
	}
	readB := func() error {
		for _, c := range cases {
			if err := c.get(s, tenantB, "b-"+c.table); err != nil {
				return fmt.Errorf("%s: %w", c.table, err)
			}
		}
		return nil
	}

	flood := finishing()
	// The goroutines report failures here: require must stop the test from its own goroutine.
	var mu sync.Mutex
	var errs []error
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	done := make(chan struct{})
	var reader, writing sync.WaitGroup
	reader.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
				if err := readB(); err != nil {
					fail(err)
					return
				}
			}
		}
	})
	for w := range writers {
		writing.Go(func() {
			for i := w; i < inserts; i += writers {
				c := flood[i%len(flood)]
				if err := c.put(s, tenantA, fmt.Sprint("a-", i), start.Add(-2*time.Hour).Add(time.Duration(i))); err != nil {
					fail(fmt.Errorf("%s a-%d: %w", c.table, i, err))
					return
				}
			}
		})
	}
	writing.Wait()
	close(done)
	reader.Wait()
	require.NoError(t, errors.Join(errs...))

	require.NoError(t, readB())
	require.Equal(t, want, count(t, s, tenantB))
	gotA := count(t, s, tenantA)
	require.Len(t, gotA, len(flood))
	for _, c := range flood {
		require.Equal(t, quota, gotA[c.table], c.table)
	}
	for i := inserts - len(flood); i < inserts; i++ {
		require.NoError(t, flood[i%len(flood)].get(s, tenantA, fmt.Sprint("a-", i)), "A's newest objects are kept")
	}
	require.ErrorIs(t, flood[0].get(s, tenantA, "a-0"), mockserver.ErrNotFound, "A's oldest were dropped")
}

// testPruneAfterRetention checks Prune removes finished objects of every kind once the
// retention has passed on their tenant's clock, and nothing else.
func testPruneAfterRetention(t *testing.T, newStore Factory) {
	s, base := open(t, newStore, 0, time.Hour)
	cases := kindCases()
	flood := finishing()
	for _, c := range cases {
		require.NoError(t, c.put(s, tenantA, "live", time.Time{}))
	}
	for _, c := range flood {
		require.NoError(t, c.put(s, tenantA, "done", start))
		require.NoError(t, c.put(s, tenantB, "done", start))
	}
	prune := func() int {
		t.Helper()
		n, err := s.Prune()
		require.NoError(t, err)
		return n
	}

	require.Zero(t, prune())
	a := base.Tenant(tenantA)
	a.Advance(time.Hour - time.Nanosecond)
	require.Zero(t, prune())
	a.Advance(time.Nanosecond)
	require.Equal(t, len(flood), prune())
	for _, c := range flood {
		require.ErrorIs(t, c.get(s, tenantA, "done"), mockserver.ErrNotFound, "a read of a pruned id: %s", c.table)
		require.NoError(t, c.get(s, tenantB, "done"), "B's clock has not moved: %s", c.table)
	}
	for _, c := range cases {
		require.NoError(t, c.get(s, tenantA, "live"), c.table)
	}

	base.Advance(time.Hour)
	require.Equal(t, len(flood), prune())
	require.Empty(t, count(t, s, tenantB))
	require.Len(t, count(t, s, tenantA), len(cases), "objects in use stay")
}

// testPruneFollowsReplacements checks that an object's latest version decides: one that
// finished later, or is no longer finished, is not pruned for an earlier DoneAt.
func testPruneFollowsReplacements(t *testing.T, newStore Factory) {
	s, base := open(t, newStore, 0, time.Hour)
	pr, idem := kindCases()[0], kindCases()[4]
	require.Equal(t, "idempotency", idem.table)
	require.NoError(t, pr.put(s, tenantA, "finished-later", start))
	require.NoError(t, pr.put(s, tenantA, "finished-later", start.Add(30*time.Minute)))
	require.NoError(t, pr.put(s, tenantA, "back-in-use", start))
	require.NoError(t, pr.put(s, tenantA, "back-in-use", time.Time{}))
	require.NoError(t, idem.put(s, tenantA, "extended", start))
	require.NoError(t, idem.put(s, tenantA, "extended", start.Add(2*time.Hour)))

	base.Advance(time.Hour)
	n, err := s.Prune()
	require.NoError(t, err)
	require.Zero(t, n)
	base.Advance(30 * time.Minute)
	n, err = s.Prune()
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.ErrorIs(t, pr.get(s, tenantA, "finished-later"), mockserver.ErrNotFound)
	require.NoError(t, pr.get(s, tenantA, "back-in-use"))
	require.NoError(t, idem.get(s, tenantA, "extended"))
}

func testForgetTenant(t *testing.T, newStore Factory) {
	s, _ := open(t, newStore, 0, 0)
	cases := kindCases()
	for _, tenant := range []string{tenantA, tenantB} {
		for _, c := range cases {
			require.NoError(t, c.put(s, tenant, "live", time.Time{}))
			if c.finishes {
				require.NoError(t, c.put(s, tenant, "done", start))
			}
		}
	}
	before := count(t, s, tenantB)

	require.NoError(t, s.ForgetTenant(tenantA))
	require.Empty(t, count(t, s, tenantA))
	for _, c := range cases {
		require.ErrorIs(t, c.get(s, tenantA, "live"), mockserver.ErrNotFound, c.table)
		require.NoError(t, c.get(s, tenantB, "live"), c.table)
	}
	require.Equal(t, before, count(t, s, tenantB))

	require.NoError(t, s.ForgetTenant("nobody"))
	require.NoError(t, cases[0].put(s, tenantA, "again", time.Time{}), "a forgotten tenant starts afresh")
	require.Equal(t, map[string]int{"payment_request": 1}, count(t, s, tenantA))
}

// testObjectsAndDeleteTenant checks the export listing (the simulator's kinds of one tenant, in
// the order first stored) and DeleteTenant, which removes every kind in the caller's transaction.
func testObjectsAndDeleteTenant(t *testing.T, newStore Factory) {
	s, _ := open(t, newStore, 0, 0)
	cases := kindCases()
	for _, c := range slices.Backward(cases) {
		require.NoError(t, c.put(s, tenantA, "x", time.Time{}))
		require.NoError(t, c.put(s, tenantB, "x", time.Time{}))
	}
	require.NoError(t, cases[0].put(s, tenantA, "x", start), "a replacement keeps its place")
	var kinds []string
	require.NoError(t, s.View(func(tx mockserver.Tx) error {
		objs, err := tx.Objects(tenantA)
		require.NoError(t, err)
		for _, o := range objs {
			kinds = append(kinds, fmt.Sprintf("%T", o))
		}
		return nil
	}))
	require.Equal(t, []string{
		"*mockserver.IdempotencyRecord", "*mockserver.NetworkSession", "*mockserver.CustomerToken",
		"*mockserver.PaymentTransaction", "*mockserver.PaymentRequest",
	}, kinds)

	require.Error(t, s.View(func(tx mockserver.Tx) error { return tx.DeleteTenant(tenantA) }), "no writes in a read transaction")
	boom := errors.New("boom")
	require.ErrorIs(t, s.Update(func(tx mockserver.Tx) error {
		require.NoError(t, tx.DeleteTenant(tenantA))
		return boom
	}), boom)
	require.Len(t, count(t, s, tenantA), len(cases), "an aborted delete removes nothing")
	require.NoError(t, s.Update(func(tx mockserver.Tx) error { return tx.DeleteTenant(tenantA) }))
	require.Empty(t, count(t, s, tenantA))
	for _, c := range cases {
		require.ErrorIs(t, c.get(s, tenantA, "x"), mockserver.ErrNotFound, c.table)
	}
	require.Len(t, count(t, s, tenantB), len(cases))
}

// idsOf lists the objects' ids in order.
func idsOf[T any](objs []T, id func(T) string) []string {
	out := []string{}
	for _, o := range objs {
		out = append(out, id(o))
	}
	return out
}

func webhookID(w *webhook.Webhook) string       { return w.WebhookID }
func deliveryID(d *webhook.Delivery) string     { return d.DeliveryID }
func signingKeyID(k *webhook.SigningKey) string { return k.SigningKeyID }

func testNotificationsScopedAndOrdered(t *testing.T, newStore Factory) {
	s, _ := open(t, newStore, 0, 0)
	ns := s.Notifications()
	put := func(w *webhook.Webhook) {
		require.NoError(t, ns.Update(func(tx webhook.Tx) error { return tx.PutWebhook(w) }))
	}
	// Ids sort in the opposite order of creation: lists must follow creation, not ids.
	put(&webhook.Webhook{AccountID: "a", WebhookID: "w3"})
	put(&webhook.Webhook{AccountID: "a", WebhookID: "w2"})
	put(&webhook.Webhook{AccountID: "ab", WebhookID: "w9"}) // an account id that extends another
	put(&webhook.Webhook{AccountID: "a", WebhookID: "w1"})
	put(&webhook.Webhook{AccountID: "a", WebhookID: "w2", URL: "changed"}) // replacing keeps the place

	require.NoError(t, ns.View(func(tx webhook.Tx) error {
		ws, err := tx.Webhooks("a")
		require.NoError(t, err)
		require.Equal(t, []string{"w3", "w2", "w1"}, idsOf(ws, webhookID))
		require.Equal(t, "changed", ws[1].URL)

		_, err = tx.Webhook("ab", "w1")
		require.ErrorIs(t, err, mockserver.ErrNotFound)
		w, err := tx.Webhook("ab", "w9")
		require.NoError(t, err)
		require.Equal(t, "w9", w.WebhookID)
		ws, err = tx.Webhooks("nobody")
		require.NoError(t, err)
		require.Empty(t, ws)
		return nil
	}))

	require.NoError(t, ns.Update(func(tx webhook.Tx) error { return tx.DeleteWebhook("a", "w2") }))
	require.ErrorIs(t, ns.Update(func(tx webhook.Tx) error { return tx.DeleteWebhook("a", "w2") }), mockserver.ErrNotFound)
	require.ErrorIs(t, ns.Update(func(tx webhook.Tx) error { return tx.DeleteWebhook("ab", "w1") }), mockserver.ErrNotFound)
	require.Error(t, ns.View(func(tx webhook.Tx) error { return tx.DeleteWebhook("a", "w1") }), "no writes in a read transaction")

	// An aborted transaction leaves nothing behind.
	boom := errors.New("boom")
	require.ErrorIs(t, ns.Update(func(tx webhook.Tx) error {
		if err := errors.Join(tx.DeleteWebhook("a", "w1"), tx.PutSigningKey(&webhook.SigningKey{AccountID: "a", SigningKeyID: "k"})); err != nil {
			return err
		}
		return boom
	}), boom)
	require.NoError(t, ns.View(func(tx webhook.Tx) error {
		_, err := tx.Webhook("a", "w1")
		require.NoError(t, err)
		ks, err := tx.SigningKeys("a")
		require.NoError(t, err)
		require.Empty(t, ks)
		return nil
	}))
}

func testNotificationsDeliveries(t *testing.T, newStore Factory) {
	s, _ := open(t, newStore, 0, 0)
	ns := s.Notifications()
	require.NoError(t, ns.Update(func(tx webhook.Tx) error {
		for i, id := range []string{"d5", "d4", "d3", "d2", "d1"} {
			hook := "w1"
			if i%2 == 1 {
				hook = "w2"
			}
			if err := tx.PutDelivery(&webhook.Delivery{AccountID: "a", DeliveryID: id, WebhookID: hook, CreatedAt: start}); err != nil {
				return err
			}
		}
		return tx.PutDelivery(&webhook.Delivery{AccountID: "b", DeliveryID: "x", WebhookID: "w1"})
	}))
	require.NoError(t, ns.View(func(tx webhook.Tx) error {
		ds, err := tx.Deliveries("a", "w1", 10)
		require.NoError(t, err)
		require.Equal(t, []string{"d1", "d3", "d5"}, idsOf(ds, deliveryID), "newest first")
		ds, err = tx.Deliveries("a", "w1", 2)
		require.NoError(t, err)
		require.Equal(t, []string{"d1", "d3"}, idsOf(ds, deliveryID))
		ds, err = tx.AccountDeliveries("a")
		require.NoError(t, err)
		require.Equal(t, []string{"d5", "d4", "d3", "d2", "d1"}, idsOf(ds, deliveryID), "every webhook's, oldest first")
		_, err = tx.Delivery("b", "d1")
		require.ErrorIs(t, err, mockserver.ErrNotFound)
		d, err := tx.Delivery("a", "d4")
		require.NoError(t, err)
		require.Equal(t, "w2", d.WebhookID)
		return nil
	}))
}

func testNotificationsBounded(t *testing.T, newStore Factory) {
	s, _ := open(t, newStore, 3, 0)
	ns := s.Notifications()
	put := func(id string) error {
		return ns.Update(func(tx webhook.Tx) error {
			return tx.PutSigningKey(&webhook.SigningKey{AccountID: tenantA, SigningKeyID: id})
		})
	}
	for _, id := range []string{"k1", "k2", "k3"} {
		require.NoError(t, put(id))
	}
	RequireQuotaExceeded(t, put("k4"))
	// Deleting frees room: the table holds k1, k3 and k5.
	require.NoError(t, ns.Update(func(tx webhook.Tx) error { return tx.DeleteSigningKey(tenantA, "k2") }))
	require.NoError(t, put("k5"))
	require.NoError(t, ns.View(func(tx webhook.Tx) error {
		ks, err := tx.SigningKeys(tenantA)
		require.NoError(t, err)
		require.Equal(t, []string{"k1", "k3", "k5"}, idsOf(ks, signingKeyID))
		return nil
	}))
	require.Equal(t, map[string]int{"notification_signing_key": 3}, count(t, s, tenantA))
}

// testManyWrites stores many objects in one transaction, as a state import does: all of them, or,
// when one is refused, none.
func testManyWrites(t *testing.T, newStore Factory) {
	s, _ := open(t, newStore, 1000, 0)
	putTokens := func(from, to int) error {
		return s.Update(func(tx mockserver.Tx) error {
			for i := from; i < to; i++ {
				if err := tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenantA), Token: fmt.Sprint("ct-", i), Status: mockserver.TokenActive}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	require.NoError(t, putTokens(0, 600))
	require.Equal(t, map[string]int{"customer_token": 600}, count(t, s, tenantA))
	RequireQuotaExceeded(t, putTokens(600, 1100))
	require.Equal(t, map[string]int{"customer_token": 600}, count(t, s, tenantA), "the refused transaction stored none")
	require.NoError(t, s.View(func(tx mockserver.Tx) error {
		_, err := tx.CustomerToken(scope(tenantA), "ct-599")
		return err
	}), "the last object of the first transaction")
}

// testOneWinner races writers of one store to finalize a Payment Request (RaceToFinalize).
func testOneWinner(t *testing.T, newStore Factory) {
	s, _ := open(t, newStore, 0, 0)
	RaceToFinalize(t, s)
}

// RaceToFinalize has many writers, spread over the given stores (one, or several on one
// database, as replicas are), race to finalize one Payment Request, as concurrent final
// authorizes do: each reads the request and, if no one finalized it yet, creates a transaction
// and marks the request finalized. Exactly one must win, which is the guarantee Store.Update
// gives.
func RaceToFinalize(t *testing.T, stores ...Store) {
	const writers = 16
	pr := &mockserver.PaymentRequest{AccountID: scope(tenantA), PaymentRequestID: "pr", State: mockserver.StateCompleted, UpdatedAt: start}
	require.NoError(t, stores[0].Update(func(tx mockserver.Tx) error { return tx.PutPaymentRequest(pr) }))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []string
	errs := make([]error, writers)
	for w := range writers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			id := fmt.Sprint("tr-", w)
			errs[w] = s.Update(func(tx mockserver.Tx) error {
				cur, err := tx.PaymentRequest("", "pr")
				if err != nil || cur.Finalized() {
					return err
				}
				next := cur.Clone()
				next.FinalizedAt, next.TransactionID = &start, id
				tr := &mockserver.PaymentTransaction{AccountID: cur.AccountID, PaymentTransactionID: id, State: mockserver.TransactionAuthorized, ExpiresAt: inUse}
				if err := errors.Join(tx.PutPaymentTransaction(tr), tx.PutPaymentRequest(next)); err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				won = append(won, id)
				return nil
			})
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	require.Len(t, won, 1, "exactly one writer finalizes")
	require.Equal(t, map[string]int{"payment_request": 1, "payment_transaction": 1}, count(t, stores[0], tenantA))
	require.NoError(t, stores[0].View(func(tx mockserver.Tx) error {
		got, err := tx.PaymentRequest(scope(tenantA), "pr")
		require.NoError(t, err)
		require.Equal(t, won[0], got.TransactionID)
		return nil
	}))
}
