package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// outboxStore is a store that keeps a durable outbox (PostgreSQL).
type outboxStore interface {
	Outbox() webhook.Outbox
}

// emitted is the nth test event of the tenant's request pr.
func emitted(tenant string, n int) mockserver.Event {
	pr := &mockserver.PaymentRequest{AccountID: scope(tenant), PaymentRequestID: fmt.Sprintf("pr-%d", n), State: mockserver.StateSubmitted}
	return mockserver.Event{Type: mockserver.EventRequestSubmitted, Tenant: tenant, AccountID: "partner-1",
		Subject: pr.PaymentRequestID, OccurredAt: start, Payload: pr}
}

// emit stores the event's request and emits the event in one write transaction, failing it with
// abort when that is set.
func emit(s Store, e mockserver.Event, abort error) error {
	return s.Update(func(tx mockserver.Tx) error {
		if err := tx.PutPaymentRequest(e.Payload.(*mockserver.PaymentRequest)); err != nil {
			return err
		}
		if err := tx.Emit(e); err != nil {
			return err
		}
		return abort
	})
}

// testOutbox checks Tx.Emit: every store takes it in a write transaction and refuses it in a
// read one. A store with an outbox keeps the events of committed transactions only, in order,
// each taken once however many take at once, with the payload as its JSON; an event whose
// taker the store refuses is dropped, and a tenant's deletion drops its waiting events.
func testOutbox(t *testing.T, newStore Factory) {
	s, _ := open(t, newStore, 0, 0)
	require.Error(t, s.View(func(tx mockserver.Tx) error { return tx.Emit(emitted(tenantA, 0)) }), "no event in a read transaction")
	errAbort := errors.New("abort")
	require.ErrorIs(t, emit(s, emitted(tenantA, 0), errAbort), errAbort)
	const events = 20
	for i := 1; i <= events; i++ {
		require.NoError(t, emit(s, emitted(tenantA, i), nil))
	}
	o, ok := s.(outboxStore)
	if !ok {
		return // the memory store keeps no outbox: its Service publishes after the commit
	}
	outbox := o.Outbox()

	// Takers at once: each event is taken once, and in order.
	var mu sync.Mutex
	var taken []string
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				more, err := outbox.Take(8, func(_ webhook.Tx, e mockserver.Event) error {
					mu.Lock()
					defer mu.Unlock()
					taken = append(taken, e.Subject)
					return nil
				})
				if !assertNoError(t, err) || !more {
					return
				}
			}
		})
	}
	wg.Wait()
	want := make([]string, events)
	for i := range want {
		want[i] = fmt.Sprintf("pr-%d", i+1)
	}
	require.Equal(t, want, taken, "each committed event once, in order; the aborted one never")

	// What an event carries, and a taker that fails leaving it for the next.
	e := emitted(tenantA, 30)
	require.NoError(t, emit(s, e, nil))
	errBroken := errors.New("broken")
	_, err := outbox.Take(1, func(webhook.Tx, mockserver.Event) error { return errBroken })
	require.ErrorIs(t, err, errBroken)
	more, err := outbox.Take(1, func(_ webhook.Tx, got mockserver.Event) error {
		payload, err := json.Marshal(e.Payload)
		require.NoError(t, err)
		require.Equal(t, mockserver.Event{Type: e.Type, Tenant: e.Tenant, AccountID: e.AccountID, Subject: e.Subject,
			OccurredAt: e.OccurredAt, Payload: json.RawMessage(payload)}, got)
		return nil
	})
	require.NoError(t, err)
	require.True(t, more)

	// A refusal drops the event; so does deleting the tenant.
	require.NoError(t, emit(s, emitted(tenantA, 31), nil))
	refusal := mockserver.QuotaExceeded("webhook deliveries", 1, "--max-objects")
	_, err = outbox.Take(1, func(webhook.Tx, mockserver.Event) error { return refusal })
	require.ErrorIs(t, err, refusal)
	require.NoError(t, emit(s, emitted(tenantA, 32), nil))
	require.NoError(t, s.ForgetTenant(tenantA))
	more, err = outbox.Take(1, func(_ webhook.Tx, got mockserver.Event) error {
		return fmt.Errorf("no event waits, yet %s was taken", got.Subject)
	})
	require.NoError(t, err)
	require.False(t, more)
}

// assertNoError reports whether err is nil, failing t otherwise; unlike require it may be called
// from a goroutine of the test's.
func assertNoError(t *testing.T, err error) bool {
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}
