package postgres

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
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
// deliveries are paused (on any mock) and while an older delivery of d's FIFO is pending. It
// takes two round trips: the lock with everything it reads (claimStateSQL), then the claim with
// the commit.
func (c deliveryClaims) Claim(d *webhook.Delivery, holder string, ttl time.Duration) (webhook.Claimed, error) {
	var st claimState
	var granted int64
	err := c.s.run(true, func(t *tx) error {
		tenant := tenantOf(d.AccountID)
		if _, err := t.lock(tenant); err != nil {
			return err
		}
		id := scoped(d.AccountID, d.DeliveryID)
		var err error
		if st, err = readClaimState(t, d, id, tenant); err != nil {
			return err
		}
		stored := st.claimed.Stored
		if stored == nil || stored.State != webhook.DeliveryPending || len(stored.Attempts) != len(d.Attempts) {
			return nil
		}
		// Paused on another mock: the attempt waits for the resume, as on that mock. A delivery
		// waits for the older ones of its FIFO (one webhook and subject, or one send) still
		// pending, wherever they are queued, as it would in one process.
		if st.paused || slices.ContainsFunc(st.older, func(o *webhook.Delivery) bool {
			return o.Subject == stored.Subject && o.SendID == stored.SendID
		}) {
			return nil
		}
		return dbError(t.c.holdCounting(&granted, `SELECT FROM claim($1, $2, $3, $4, $5) AS c(granted) WHERE granted`,
			"delivery\n"+id, tenant, holder, len(d.Attempts)+1, ttl.Milliseconds()))
	})
	if err != nil || granted != 1 {
		return webhook.Claimed{Stored: st.claimed.Stored}, err
	}
	st.claimed.Granted = true
	return st.claimed, nil
}

// claimStateSQL reads what a delivery's claim decides on and its attempt needs, in one
// statement: the delivery (part 0), whether its tenant's deliveries are paused (part 1, a row only
// when they are), the account's pending deliveries to the same webhook stored before it (part 2),
// the webhook (part 3) and the account's signing keys (part 4).
const claimStateSQL = `
SELECT 0, body FROM objects WHERE kind = $1 AND id = $2
UNION ALL
SELECT 1, ''::bytea FROM tenant_settings WHERE tenant = $3 AND deliveries_paused
UNION ALL
SELECT 2, body FROM objects
WHERE kind = $1 AND account = $4 AND parent = $5 AND done_at = $6 AND ` + notificationKinds + `
	AND seq < (SELECT seq FROM objects WHERE kind = $1 AND id = $2)
UNION ALL
SELECT 3, body FROM objects WHERE kind = $7 AND id = $8
UNION ALL
SELECT 4, body FROM objects WHERE kind = $9 AND account = $4 AND ` + notificationKinds + `
ORDER BY 1`

// claimState is what claimStateSQL read.
type claimState struct {
	claimed webhook.Claimed
	paused  bool
	older   []*webhook.Delivery
}

// readClaimState reads what decides d's claim (claimStateSQL).
func readClaimState(t *tx, d *webhook.Delivery, id, tenant string) (claimState, error) {
	var st claimState
	rows, err := t.c.query(claimStateSQL, kindDelivery.name, id, tenant, d.AccountID, d.WebhookID, int64(live),
		kindWebhook.name, scoped(d.AccountID, d.WebhookID), kindSigningKey.name)
	if err != nil {
		return st, dbError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var part int
		var body []byte
		if err := rows.Scan(&part, &body); err != nil {
			return st, dbError(err)
		}
		switch part {
		case 0:
			st.claimed.Stored, err = decode[webhook.Delivery](body)
		case 1:
			st.paused = true
		case 2:
			err = decodeInto(&st.older, body)
		case 3:
			st.claimed.Webhook, err = decode[webhook.Webhook](body)
		case 4:
			err = decodeInto(&st.claimed.Keys, body)
		}
		if err != nil {
			return st, err
		}
	}
	return st, dbError(rows.Err())
}

// decodeInto decodes an object and appends it to list.
func decodeInto[E any](list *[]*E, body []byte) error {
	v, err := decode[E](body)
	if err == nil {
		*list = append(*list, v)
	}
	return err
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
