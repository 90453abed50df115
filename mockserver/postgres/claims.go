package postgres

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// keyClaimTTL is how long the first request under an idempotency key holds the key against
// duplicates sent to other processes: longer than any request takes (the server's write
// timeout), so that only a process that died with the request under way leaves a claim that runs
// out, and the key is free again.
const keyClaimTTL = time.Minute

// newHolder returns a name for this store among the processes sharing the database.
func newHolder() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Claims returns the store's webhook.Claimer: several mocks on the database make each delivery
// attempt once.
func (s *Store) Claims() webhook.Claimer { return deliveryClaims{s: s} }

type deliveryClaims struct{ s *Store }

// Claim claims the next attempt of d under the tenant's lock, so that the delivery read is the
// one the last attempt stored. It is refused, besides as webhook.Claimer says, while the tenant's
// deliveries are paused (on any mock) and while an older delivery of d's FIFO is pending.
func (c deliveryClaims) Claim(d *webhook.Delivery, holder string, ttl time.Duration) (*webhook.Delivery, bool, error) {
	var stored *webhook.Delivery
	granted := false
	err := c.s.run(true, func(t *tx) error {
		n := notificationTx{t: t}
		var err error
		stored, err = n.Delivery(d.AccountID, d.DeliveryID)
		if errors.Is(err, mockserver.ErrNotFound) {
			stored = nil
			return nil
		}
		if err != nil || stored.State != webhook.DeliveryPending || len(stored.Attempts) != len(d.Attempts) {
			return err
		}
		// Paused on another mock: the attempt waits for the resume, as on that mock.
		var paused bool
		if err := t.c.queryRow(`SELECT coalesce((SELECT deliveries_paused FROM tenant_settings WHERE tenant = $1), false)`,
			tenantOf(d.AccountID)).Scan(&paused); paused || err != nil {
			return dbError(err)
		}
		// A delivery waits for the older ones of its FIFO (one webhook and subject, or one send)
		// still pending, wherever they are queued, as it would in one process.
		if waits, err := waitsForOlder(t, stored); waits || err != nil {
			return err
		}
		id := "delivery\n" + scoped(d.AccountID, d.DeliveryID)
		return dbError(t.c.queryRow(`SELECT claim($1, $2, $3, $4, $5)`,
			id, tenantOf(d.AccountID), holder, len(d.Attempts)+1, ttl.Milliseconds()).Scan(&granted))
	})
	return stored, granted, err
}

// reservation reports whether r is the idempotency layer's reservation of its key, made before
// the first request runs: no answer yet, and not the record of a request that failed, which ends
// at once.
func (t *tx) reservation(r *mockserver.IdempotencyRecord) bool {
	return r.Status == 0 && r.ExpiresAt > t.s.now(r.Tenant).UnixNano()
}

// claimKey claims the key of a reservation against the same key's requests on other processes
// (mockserver.ErrKeyInFlight while one holds it, or once one stored its answer, which the caller
// then replays), or ends the claim once the request stored its outcome. The claim and its end go
// with the transaction's next statement.
func (t *tx) claimKey(r *mockserver.IdempotencyRecord) error {
	id := "key\n" + scoped(r.Scope, r.Key)
	if t.reservation(r) {
		// Another process may have stored the first request's answer since this one looked: it
		// ended its claim, and the answer must not be overwritten but replayed.
		prev, err := get[mockserver.IdempotencyRecord](t, kindIdempotency, tenantOf(r.Tenant), scoped(r.Scope, r.Key), func(stored) bool { return true })
		switch {
		case err == nil && prev.Status != 0 && prev.ExpiresAt > t.s.now(r.Tenant).UnixNano():
			return mockserver.ErrKeyInFlight
		case err != nil && !errors.Is(err, mockserver.ErrNotFound):
			return err
		}
		return dbError(t.c.hold(`SELECT claim_key($1, $2, $3, $4)`, id, r.Tenant, t.s.holder, keyClaimTTL.Milliseconds()))
	}
	return dbError(t.c.hold(`DELETE FROM claims WHERE id = $1`, id))
}

// olderPendingSQL lists the bodies of an account's pending deliveries to one webhook stored before
// the delivery $4.
const olderPendingSQL = `
SELECT body FROM objects
WHERE kind = $1 AND account = $2 AND parent = $3 AND done_at = $5
	AND seq < (SELECT seq FROM objects WHERE kind = $1 AND id = $4)
ORDER BY seq`

// waitsForOlder reports whether a pending delivery older than d is in d's FIFO.
func waitsForOlder(t *tx, d *webhook.Delivery) (bool, error) {
	older, err := scanAll(t, olderPendingSQL, func(_ string, body []byte) (*webhook.Delivery, error) {
		return decode[webhook.Delivery](body)
	}, kindDelivery.name, d.AccountID, d.WebhookID, scoped(d.AccountID, d.DeliveryID), int64(live))
	for _, o := range older {
		if o.Subject == d.Subject && o.SendID == d.SendID {
			return true, err
		}
	}
	return false, err
}

// PendingDeliveries lists every pending delivery of every tenant, oldest first, for a mock to
// take up those another mock on the database left (webhook.Notifier.Adopt).
func (s *Store) PendingDeliveries() ([]*webhook.Delivery, error) {
	var out []*webhook.Delivery
	err := s.run(false, func(t *tx) error {
		var err error
		// The constants are written out, so that the partial index on them serves every plan.
		out, err = scanAll(t, `SELECT body FROM objects
			WHERE kind = 'notification_delivery' AND done_at = 9223372036854775807 ORDER BY seq`,
			func(_ string, body []byte) (*webhook.Delivery, error) { return decode[webhook.Delivery](body) })
		return err
	})
	return out, err
}
