package http

import (
	"github.com/klarna-mock/klarna-mock/mockserver"
)

// The calls of a payment transaction's life after authorization (docs/klarna.md §10) and of the
// Payment Request update (§6), mounted with bodyCall in routes.go: each takes the body the
// contract already accepted to the service for the transaction or request of the path.

func (s *Server) capturePaymentTransaction(r *request, in mockserver.CaptureRequest) (*mockserver.PaymentCapture, error) {
	return s.svc.Capture(r.scope, r.vars["payment_transaction_id"], in)
}

// refundPaymentTransaction refunds the transaction of the path, or its capture when the path
// names one.
func (s *Server) refundPaymentTransaction(r *request, in mockserver.RefundRequest) (*mockserver.PaymentRefund, error) {
	return s.svc.Refund(r.scope, r.vars["payment_transaction_id"], r.vars["payment_capture_id"], in)
}

// voidPaymentTransaction takes no body: the contract describes none.
func (s *Server) voidPaymentTransaction(r *request, _ struct{}) (*mockserver.PaymentTransaction, error) {
	return s.svc.Void(r.scope, r.vars["payment_transaction_id"])
}

func (s *Server) updatePaymentTransaction(r *request, in mockserver.TransactionUpdate) (*mockserver.PaymentTransaction, error) {
	return s.svc.UpdateTransaction(r.scope, r.vars["payment_transaction_id"], in)
}

func (s *Server) updatePaymentRequest(r *request, in mockserver.PaymentRequestUpdate) (*mockserver.PaymentRequest, error) {
	return s.svc.UpdatePaymentRequest(r.scope, r.vars["payment_request_id"], in)
}
