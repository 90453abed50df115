package mockserver_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// TestDoneAt pins, for every stored type, when an object stops being needed (the zero time: never
// on its own).
func TestDoneAt(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 1, 2, 12, 0, 0, 0, time.UTC)
	later := at.Add(time.Minute)
	request := func(state string, completed *time.Time) *mockserver.PaymentRequest {
		return &mockserver.PaymentRequest{State: state, UpdatedAt: later, CompletedAt: completed}
	}
	transaction := func(state string, expires time.Time) *mockserver.PaymentTransaction {
		return &mockserver.PaymentTransaction{State: state, ExpiresAt: expires, UpdatedAt: later}
	}
	delivery := func(state string) *webhook.Delivery {
		return &webhook.Delivery{State: state, CreatedAt: at, UpdatedAt: later}
	}
	tests := []struct {
		name string
		obj  mockserver.Retained
		want time.Time
	}{
		{"submitted request", request(mockserver.StateSubmitted, nil), time.Time{}},
		{"request in progress", request(mockserver.StateInProgress, nil), time.Time{}},
		{"completed request: its token's window", request(mockserver.StateCompleted, &at), at.Add(mockserver.NetworkSessionWindow)},
		{"completed request without completed_at", request(mockserver.StateCompleted, nil), later.Add(mockserver.NetworkSessionWindow)},
		{"declined request", request(mockserver.StateDeclined, nil), later},
		{"expired request", request(mockserver.StateExpired, nil), later},
		{"canceled request", request(mockserver.StateCanceled, &at), later},

		{"authorized transaction: its last timed transition", transaction(mockserver.TransactionAuthorized, at), at.Add(mockserver.ExpiredTransactionKept)},
		{"expired transaction", transaction(mockserver.TransactionExpired, at), at.Add(mockserver.ExpiredTransactionKept)},
		{"completed transaction, refundable as long", transaction(mockserver.TransactionCompleted, at), at.Add(mockserver.ExpiredTransactionKept)},
		{"closed transaction: when it closed", transaction(mockserver.TransactionClosed, at), later},
		{"transaction without expiry", transaction(mockserver.TransactionAuthorized, time.Time{}), time.Time{}},

		{"active token", &mockserver.CustomerToken{Status: mockserver.TokenActive, CreatedAt: at}, time.Time{}},
		{"revoked token", &mockserver.CustomerToken{Status: mockserver.TokenRevoked, CreatedAt: at, RevokedAt: later}, later},

		{"network session", &mockserver.NetworkSession{ExpiresAt: at}, at},
		{"spent test token: when spent", &mockserver.NetworkSession{ExpiresAt: later, SpentBy: "tx", SpentAt: at}, at},
		{"idempotency record", &mockserver.IdempotencyRecord{ExpiresAt: at.UnixNano()}, at},

		{"signing key", &webhook.SigningKey{CreatedAt: at}, time.Time{}},
		{"webhook", &webhook.Webhook{CreatedAt: at, UpdatedAt: later}, time.Time{}},
		{"pending delivery", delivery(webhook.DeliveryPending), time.Time{}},
		{"delivered delivery", delivery(webhook.DeliveryDelivered), later},
		{"failed delivery", delivery(webhook.DeliveryFailed), later},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.True(t, tt.want.Equal(tt.obj.DoneAt()), "want %v, got %v", tt.want, tt.obj.DoneAt())
			require.Equal(t, tt.want.IsZero(), tt.obj.DoneAt().IsZero())
		})
	}
}

func TestQuotaExceeded(t *testing.T) {
	t.Parallel()
	e := mockserver.QuotaExceeded("payment requests", 5000, "--max-objects")
	require.Equal(t, http.StatusTooManyRequests, e.Status)
	require.Equal(t, mockserver.CodeQuotaExceeded, e.ErrorCode)
	require.Equal(t, mockserver.ResourceError, e.ErrorType, "not RATE_LIMITED's ACCESS_ERROR: a retry does not help")
	require.Contains(t, e.ErrorMessage, "5000 payment requests")
	require.Contains(t, e.ErrorMessage, "--max-objects")
	require.NotEmpty(t, e.ErrorID)
}
