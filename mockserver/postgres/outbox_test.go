package postgres_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// TestOutboxRecordsWhatSomeoneMayReceive checks Outbox.Notify: asked for the events of owners
// with webhooks only, a store records none of an owner without one, on whichever store of the
// database the webhook is registered, and wakes the notifier only after a commit that recorded
// some, with their owner and number; asked for every event, it records them all.
func TestOutboxRecordsWhatSomeoneMayReceive(t *testing.T) {
	t.Parallel()
	a, b := twoStores(t)
	var mu sync.Mutex
	woken := map[string]int{}
	a.Outbox().Notify(false, func(owner string, events int) {
		mu.Lock()
		defer mu.Unlock()
		woken[owner] += events
	})
	emit := func(owner string, n int) {
		t.Helper()
		require.NoError(t, a.Update(func(tx mockserver.Tx) error {
			for i := range n {
				if err := tx.Emit(mockserver.Event{Type: mockserver.EventRequestSubmitted, Tenant: owner, AccountID: "partner-1",
					Subject: owner + string(rune('a'+i)), OccurredAt: time.Unix(0, 0).UTC()}); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	waiting := func() []string {
		t.Helper()
		var subjects []string
		for {
			more, err := a.Outbox().Take(10, func(_ webhook.Tx, e mockserver.Event) error {
				subjects = append(subjects, e.Subject)
				return nil
			})
			require.NoError(t, err)
			if !more {
				return subjects
			}
		}
	}

	emit("tenant-a", 2)
	require.Empty(t, waiting(), "nobody may receive them")
	require.NoError(t, b.Notifications().Update(func(tx webhook.Tx) error {
		return tx.PutWebhook(&webhook.Webhook{AccountID: "tenant-a", WebhookID: "w1", URL: "http://127.0.0.1:1/", EventTypes: []string{"*"}})
	}))
	emit("tenant-a", 2)
	emit("tenant-b", 1)
	require.Equal(t, []string{"tenant-aa", "tenant-ab"}, waiting(), "the webhook registered on the other store counts; tenant-b has none")
	require.Equal(t, map[string]int{"tenant-a": 2}, woken)

	a.Outbox().Notify(true, func(string, int) {})
	emit("tenant-b", 1)
	require.Equal(t, []string{"tenant-ba"}, waiting(), "every event, for a webhook of every tenant")
}
