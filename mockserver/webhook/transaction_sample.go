package webhook

import (
	"time"

	"github.com/google/uuid"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// sampleTransaction is the made-up payment transaction Simulate sends with a
// payment.transaction.* event: in the state the event announces, with the capture or refund it
// reports (docs/klarna.md §10).
func sampleTransaction(eventType string, now time.Time) *mockserver.PaymentTransaction {
	tr := &mockserver.PaymentTransaction{
		PaymentTransactionID:        mockserver.PrefixPaymentTransaction + uuid.NewString(),
		PaymentTransactionReference: "simulated-transaction",
		Amount:                      11800,
		Currency:                    "USD",
		State:                       mockserver.TransactionAuthorized,
		PaymentFunding:              mockserver.PaymentFunding{Type: "GUARANTEED", State: mockserver.FundingFunded},
		CreatedAt:                   now,
		ExpiresAt:                   now.Add(mockserver.TransactionExpiry),
	}
	capture := mockserver.PaymentCapture{PaymentCaptureID: mockserver.PrefixPaymentCapture + uuid.NewString(), CapturedAmount: tr.Amount, CapturedAt: now}
	switch eventType {
	case mockserver.EventTransactionCaptured, mockserver.EventTransactionCompleted:
		tr.State, tr.PaymentCaptures = mockserver.TransactionCompleted, []mockserver.PaymentCapture{capture}
	case mockserver.EventTransactionRefunded:
		tr.State, tr.PaymentCaptures = mockserver.TransactionCompleted, []mockserver.PaymentCapture{capture}
		tr.PaymentRefunds = []mockserver.PaymentRefund{{
			PaymentRefundID: mockserver.PrefixPaymentRefund + uuid.NewString(), PaymentCaptureID: capture.PaymentCaptureID,
			RefundedAmount: 2500, RefundedAt: now,
		}}
	case mockserver.EventTransactionExpired, mockserver.EventTransactionClosed:
		tr.State, tr.PaymentFunding.State = mockserver.TransactionExpired, mockserver.FundingExpired
		tr.CreatedAt, tr.ExpiresAt = now.Add(-mockserver.TransactionExpiry), now
		if eventType == mockserver.EventTransactionClosed {
			tr.State = mockserver.TransactionClosed
			tr.CreatedAt, tr.ExpiresAt = tr.CreatedAt.Add(-mockserver.ExpiredTransactionKept), now.Add(-mockserver.ExpiredTransactionKept)
		}
	}
	return tr
}
