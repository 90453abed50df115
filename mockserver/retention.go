package mockserver

import "time"

// Retained is what every stored object implements so the store can bound each tenant's data:
// DoneAt is the instant after which no flow needs the object any more. The zero time means the
// object is live and is never dropped to make room or pruned. A store may drop a finished object
// (DoneAt at or before the tenant's now) when the tenant's table of that kind is full, and prunes
// it once its retention after DoneAt has passed.
type Retained interface {
	DoneAt() time.Time
}

// ExpiredTransactionKept is how long an expired payment transaction stays EXPIRED, Klarna's 7
// days in which what it captured may still be refunded, before it closes or, partly captured,
// completes (docs/klarna.md §10).
const ExpiredTransactionKept = 7 * 24 * time.Hour

// Every stored type of the domain is Retained.
var (
	_ Retained = (*PaymentRequest)(nil)
	_ Retained = (*PaymentTransaction)(nil)
	_ Retained = (*CustomerToken)(nil)
	_ Retained = (*NetworkSession)(nil)
	_ Retained = (*IdempotencyRecord)(nil)
)

// DoneAt is zero while the request can still change state. A COMPLETED request is needed until
// its network session token's window for the final authorize ends (docs/klarna.md §6); a
// DECLINED, EXPIRED or CANCELED one is done when it reached that state.
func (p *PaymentRequest) DoneAt() time.Time {
	switch p.State {
	case StateCompleted:
		completed := p.UpdatedAt
		if p.CompletedAt != nil {
			completed = *p.CompletedAt
		}
		return completed.Add(NetworkSessionWindow)
	case StateDeclined, StateExpired, StateCanceled:
		return p.UpdatedAt
	}
	return time.Time{}
}

// DoneAt is when a CLOSED transaction closed: nothing can be done with it any more. Any other
// transaction is done ExpiredTransactionKept after its expires_at, which is never before its
// last timed transition (transaction.go), so no timer outlives it: an AUTHORIZED or EXPIRED one
// closes or completes then, and a COMPLETED one, which Klarna gives no end, stays refundable
// until the same point, a week after its authorization would have lapsed.
func (t *PaymentTransaction) DoneAt() time.Time {
	switch {
	case t.State == TransactionClosed:
		return t.UpdatedAt
	case t.ExpiresAt.IsZero():
		return time.Time{}
	}
	return t.ExpiresAt.Add(ExpiredTransactionKept)
}

// DoneAt is zero for an active token, which may be charged at any time, and the time it was
// revoked for a revoked one.
func (t *CustomerToken) DoneAt() time.Time {
	if t.Status != TokenRevoked {
		return time.Time{}
	}
	return t.RevokedAt
}

// DoneAt is when the network session token expires, or when an authorize spent it if that was
// earlier: no authorize accepts it afterwards. A spent one is kept as long as the store keeps
// finished objects, so that using it again is refused as spent rather than unknown.
func (n *NetworkSession) DoneAt() time.Time {
	if n.SpentBy != "" && n.SpentAt.Before(n.ExpiresAt) {
		return n.SpentAt
	}
	return n.ExpiresAt
}

// DoneAt is when the key stops being honoured: a retry after it runs the request anew.
func (r *IdempotencyRecord) DoneAt() time.Time { return time.Unix(0, r.ExpiresAt).UTC() }
