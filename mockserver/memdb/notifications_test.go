package memdb_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

func TestNotificationsScopedAndOrdered(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 0, 0)
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
		var ids []string
		for _, w := range ws {
			ids = append(ids, w.WebhookID)
		}
		require.Equal(t, []string{"w3", "w2", "w1"}, ids)
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
		require.NoError(t, tx.DeleteWebhook("a", "w1"))
		require.NoError(t, tx.PutSigningKey(&webhook.SigningKey{AccountID: "a", SigningKeyID: "k"}))
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

func TestNotificationsDeliveries(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 0, 0)
	ns := s.Notifications()
	now := time.Now()
	require.NoError(t, ns.Update(func(tx webhook.Tx) error {
		for i, id := range []string{"d5", "d4", "d3", "d2", "d1"} {
			hook := "w1"
			if i%2 == 1 {
				hook = "w2"
			}
			if err := tx.PutDelivery(&webhook.Delivery{AccountID: "a", DeliveryID: id, WebhookID: hook, CreatedAt: now}); err != nil {
				return err
			}
		}
		return tx.PutDelivery(&webhook.Delivery{AccountID: "b", DeliveryID: "x", WebhookID: "w1"})
	}))
	require.NoError(t, ns.View(func(tx webhook.Tx) error {
		ds, err := tx.Deliveries("a", "w1", 10)
		require.NoError(t, err)
		var ids []string
		for _, d := range ds {
			ids = append(ids, d.DeliveryID)
		}
		require.Equal(t, []string{"d1", "d3", "d5"}, ids, "newest first")
		ds, err = tx.Deliveries("a", "w1", 2)
		require.NoError(t, err)
		require.Len(t, ds, 2)
		_, err = tx.Delivery("b", "d1")
		require.ErrorIs(t, err, mockserver.ErrNotFound)
		d, err := tx.Delivery("a", "d4")
		require.NoError(t, err)
		require.Equal(t, "w2", d.WebhookID)
		return nil
	}))
}

func TestNotificationsBoundedPerTenant(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 3, 0)
	ns := s.Notifications()
	put := func(id string) error {
		return ns.Update(func(tx webhook.Tx) error {
			return tx.PutSigningKey(&webhook.SigningKey{AccountID: tenantA, SigningKeyID: id})
		})
	}
	for _, id := range []string{"k1", "k2", "k3"} {
		require.NoError(t, put(id))
	}
	requireQuotaExceeded(t, put("k4"))
	// Deleting frees room: the table holds k1, k3 and k5.
	require.NoError(t, ns.Update(func(tx webhook.Tx) error { return tx.DeleteSigningKey(tenantA, "k2") }))
	require.NoError(t, put("k5"))
	require.NoError(t, ns.View(func(tx webhook.Tx) error {
		ks, err := tx.SigningKeys(tenantA)
		require.NoError(t, err)
		var ids []string
		for _, k := range ks {
			ids = append(ids, k.SigningKeyID)
		}
		require.Equal(t, []string{"k1", "k3", "k5"}, ids)
		return nil
	}))
	require.Equal(t, map[string]int{"notification_signing_key": 3}, s.Count(tenantA))
}
