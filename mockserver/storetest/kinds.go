package storetest

import (
	"cmp"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// start is when every test's manual clock starts.
var start = time.Date(2030, 1, 2, 12, 0, 0, 0, time.UTC)

// Tenants of the tests, shaped as mockhttp.Accounts.Resolve names them.
const (
	tenantA = "key-aaaaaaaaaaaaaaaa"
	tenantB = "key-bbbbbbbbbbbbbbbb"
)

// scope is the account id the simulator stores the tenant's objects under.
func scope(tenant string) string { return mockserver.Scope(tenant, "partner-1") }

// inUse is the DoneAt given to objects still in use whose kind cannot be live forever.
var inUse = start.Add(24 * time.Hour)

// kindCase stores and reads objects of one kind, so the store's rules are checked on every kind.
type kindCase struct {
	table string
	// finishes reports whether objects of the kind ever finish; put ignores done when not.
	finishes bool
	// put stores an object of the tenant under id: finished at done, or still in use (not
	// finished by the clock's start) for the zero done.
	put func(s Store, tenant, id string, done time.Time) error
	// get reads the tenant's object stored under id.
	get func(s Store, tenant, id string) error
}

// kindCases covers every kind a store keeps. The ids the cases store are the given ones
// qualified by the tenant, since the simulator's ids are random and so never shared by two tenants.
func kindCases() []kindCase {
	cases := []kindCase{
		{
			table: "payment_request", finishes: true,
			put: func(s Store, tenant, id string, done time.Time) error {
				pr := &mockserver.PaymentRequest{AccountID: scope(tenant), PaymentRequestID: id, State: mockserver.StateSubmitted}
				if !done.IsZero() {
					pr.State, pr.UpdatedAt = mockserver.StateCanceled, done
				}
				return s.Update(func(tx mockserver.Tx) error { return tx.PutPaymentRequest(pr) })
			},
			get: func(s Store, tenant, id string) error {
				return s.View(func(tx mockserver.Tx) error { _, err := tx.PaymentRequest(scope(tenant), id); return err })
			},
		},
		{
			table: "payment_transaction", finishes: true,
			put: func(s Store, tenant, id string, done time.Time) error {
				tr := &mockserver.PaymentTransaction{AccountID: scope(tenant), PaymentTransactionID: id, State: mockserver.TransactionAuthorized, ExpiresAt: inUse}
				if !done.IsZero() {
					tr.ExpiresAt = done.Add(-mockserver.ExpiredTransactionKept)
				}
				return s.Update(func(tx mockserver.Tx) error { return tx.PutPaymentTransaction(tr) })
			},
			get: func(s Store, tenant, id string) error {
				return s.View(func(tx mockserver.Tx) error { _, err := tx.PaymentTransaction(scope(tenant), id); return err })
			},
		},
		{
			table: "customer_token", finishes: true,
			put: func(s Store, tenant, id string, done time.Time) error {
				ct := &mockserver.CustomerToken{AccountID: scope(tenant), Token: id, Status: mockserver.TokenActive}
				if !done.IsZero() {
					ct.Status, ct.RevokedAt = mockserver.TokenRevoked, done
				}
				return s.Update(func(tx mockserver.Tx) error { return tx.PutCustomerToken(ct) })
			},
			get: func(s Store, tenant, id string) error {
				return s.View(func(tx mockserver.Tx) error { _, err := tx.CustomerToken(scope(tenant), id); return err })
			},
		},
		{
			table: "network_session", finishes: true,
			put: func(s Store, tenant, id string, done time.Time) error {
				ns := &mockserver.NetworkSession{AccountID: scope(tenant), Token: id, ExpiresAt: cmp.Or(done, inUse)}
				return s.Update(func(tx mockserver.Tx) error { return tx.PutNetworkSession(ns) })
			},
			get: func(s Store, tenant, id string) error {
				return s.View(func(tx mockserver.Tx) error { _, err := tx.NetworkSession(scope(tenant), id); return err })
			},
		},
		{
			table: "idempotency", finishes: true,
			put: func(s Store, tenant, id string, done time.Time) error {
				r := &mockserver.IdempotencyRecord{Scope: idempotencyScope(tenant), Tenant: tenant, Key: id, ExpiresAt: cmp.Or(done, inUse).UnixNano()}
				return s.Update(func(tx mockserver.Tx) error { return tx.PutIdempotent(r) })
			},
			get: func(s Store, tenant, id string) error {
				return s.View(func(tx mockserver.Tx) error { _, err := tx.Idempotent(idempotencyScope(tenant), id); return err })
			},
		},
		{
			table: "notification_delivery", finishes: true,
			put: func(s Store, tenant, id string, done time.Time) error {
				d := &webhook.Delivery{AccountID: tenant, DeliveryID: id, WebhookID: "w", State: webhook.DeliveryPending}
				if !done.IsZero() {
					d.State, d.UpdatedAt = webhook.DeliveryDelivered, done
				}
				return s.Notifications().Update(func(tx webhook.Tx) error { return tx.PutDelivery(d) })
			},
			get: func(s Store, tenant, id string) error {
				return s.Notifications().View(func(tx webhook.Tx) error { _, err := tx.Delivery(tenant, id); return err })
			},
		},
		{
			table: "notification_signing_key",
			put: func(s Store, tenant, id string, _ time.Time) error {
				k := &webhook.SigningKey{AccountID: tenant, SigningKeyID: id}
				return s.Notifications().Update(func(tx webhook.Tx) error { return tx.PutSigningKey(k) })
			},
			get: func(s Store, tenant, id string) error {
				return s.Notifications().View(func(tx webhook.Tx) error { _, err := tx.SigningKey(tenant, id); return err })
			},
		},
		{
			table: "notification_webhook",
			put: func(s Store, tenant, id string, _ time.Time) error {
				w := &webhook.Webhook{AccountID: tenant, WebhookID: id}
				return s.Notifications().Update(func(tx webhook.Tx) error { return tx.PutWebhook(w) })
			},
			get: func(s Store, tenant, id string) error {
				return s.Notifications().View(func(tx webhook.Tx) error { _, err := tx.Webhook(tenant, id); return err })
			},
		},
	}
	for i, c := range cases {
		cases[i].put = func(s Store, tenant, id string, done time.Time) error {
			return c.put(s, tenant, tenant+"/"+id, done)
		}
		cases[i].get = func(s Store, tenant, id string) error { return c.get(s, tenant, tenant+"/"+id) }
	}
	return cases
}

// finishing returns the cases whose objects finish.
func finishing() []kindCase {
	var out []kindCase
	for _, c := range kindCases() {
		if c.finishes {
			out = append(out, c)
		}
	}
	return out
}

func idempotencyScope(tenant string) string {
	return tenant + " POST /payments/v2/accounts/partner-1/payment/authorize"
}

// RequireQuotaExceeded checks err is the Klarna-shaped 429 QUOTA_EXCEEDED naming the flag that
// raises the quota, as a store answers a tenant whose quota is full of live data.
func RequireQuotaExceeded(t testing.TB, err error, msgAndArgs ...any) {
	t.Helper()
	var ke *mockserver.Error
	require.True(t, errors.As(err, &ke), "a Klarna-shaped error, got %v %v", err, msgAndArgs)
	require.Equal(t, 429, ke.Status)
	require.Equal(t, mockserver.CodeQuotaExceeded, ke.ErrorCode)
	require.Equal(t, mockserver.ResourceError, ke.ErrorType)
	require.Contains(t, ke.ErrorMessage, "--max-objects")
}

// count is s.Count(tenant), which must not fail.
func count(t testing.TB, s Store, tenant string) map[string]int {
	t.Helper()
	n, err := s.Count(tenant)
	require.NoError(t, err)
	return n
}
