package postgres_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/postgres"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// TestClaimsOfTwoStores checks the claims two stores on one database make of a delivery's
// attempts: one holder at a time, a claim that ran out taken over, a claim of an attempt made
// already refused with the delivery as stored, and a finished or older-blocked delivery never
// claimed.
func TestClaimsOfTwoStores(t *testing.T) {
	t.Parallel()
	a, b := twoStores(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	delivery := func(id, subject string) *webhook.Delivery {
		return &webhook.Delivery{AccountID: "tenant", DeliveryID: id, WebhookID: "hook", Subject: subject,
			State: webhook.DeliveryPending, Attempts: []webhook.Attempt{}, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now}
	}
	put := func(ds ...*webhook.Delivery) {
		require.NoError(t, a.Notifications().Update(func(tx webhook.Tx) error {
			for _, d := range ds {
				if err := tx.PutDelivery(d); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	first, second, other := delivery("d1", "s1"), delivery("d2", "s1"), delivery("d3", "s2")
	put(first, second, other)

	require.NoError(t, a.Notifications().Update(func(tx webhook.Tx) error {
		return errors.Join(tx.PutSigningKey(&webhook.SigningKey{AccountID: "tenant", SigningKeyID: "key", Secret: "secret"}),
			tx.PutWebhook(&webhook.Webhook{AccountID: "tenant", WebhookID: "hook", SigningKeyID: "key", URL: "http://127.0.0.1:1/"}))
	}))

	c, err := a.Claims().Claim(first, "A", time.Minute)
	require.NoError(t, err)
	require.True(t, c.Granted)
	require.Equal(t, "hook", c.Webhook.WebhookID, "the claim carries what the attempt needs")
	require.Len(t, c.Keys, 1)
	c, err = b.Claims().Claim(first, "B", time.Minute)
	require.NoError(t, err)
	require.False(t, c.Granted, "A holds the attempt")
	c, err = b.Claims().Claim(second, "B", time.Minute)
	require.NoError(t, err)
	require.False(t, c.Granted, "the subject's older delivery is pending")
	c, err = b.Claims().Claim(other, "B", time.Millisecond)
	require.NoError(t, err)
	require.True(t, c.Granted, "another subject goes its own way")
	time.Sleep(10 * time.Millisecond)
	c, err = a.Claims().Claim(other, "A", time.Minute)
	require.NoError(t, err)
	require.True(t, c.Granted, "B's claim ran out: B died during the attempt")

	made := *first
	made.Attempts = []webhook.Attempt{{Attempt: 1, StartedAt: now}}
	made.State, made.NextAttemptAt = webhook.DeliveryDelivered, nil
	put(&made)
	c, err = b.Claims().Claim(first, "B", time.Minute)
	require.NoError(t, err)
	require.False(t, c.Granted, "the attempt was made")
	require.Equal(t, webhook.DeliveryDelivered, c.Stored.State)
	c, err = b.Claims().Claim(second, "B", time.Minute)
	require.NoError(t, err)
	require.True(t, c.Granted, "the subject's older delivery is done")
	c, err = b.Claims().Claim(delivery("gone", "s3"), "B", time.Minute)
	require.NoError(t, err)
	require.False(t, c.Granted)
	require.Nil(t, c.Stored)
}

// TestKeyClaimsOfTwoStores checks the claim of an idempotency key's first request across two
// stores on one database: the other store's reservation waits (mockserver.ErrKeyInFlight) until
// the first request's answer is stored, and then still does, for the answer to be replayed.
func TestKeyClaimsOfTwoStores(t *testing.T) {
	t.Parallel()
	a, b := twoStores(t)
	reserve := func(s *postgres.Store, status int) error {
		return s.Update(func(tx mockserver.Tx) error {
			return tx.PutIdempotent(&mockserver.IdempotencyRecord{Scope: "tenant POST /x", Tenant: "tenant", Key: "k",
				Status: status, ExpiresAt: time.Now().Add(time.Hour).UnixNano()})
		})
	}
	require.NoError(t, reserve(a, 0))
	require.ErrorIs(t, reserve(b, 0), mockserver.ErrKeyInFlight, "A runs the first request")
	require.NoError(t, reserve(a, 200), "A stores its answer")
	require.ErrorIs(t, reserve(b, 0), mockserver.ErrKeyInFlight, "B replays A's answer rather than overwrite it")
}
