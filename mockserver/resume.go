package mockserver

import "github.com/klarna-mock/klarna-mock/mockserver/rules"

// Resume schedules what the given objects, just stored by an import of their tenant's state
// (PUT /mock/v1/state), have ahead of them on their tenant's clock, as their creation would
// have: a Payment Request's expiry while it can still expire, a payment transaction's next
// timed transition. Timers already due fire at once. What an outcome rule had the simulated
// customer do later is not part of a stored request, so an imported request waits for a person
// or an API call to act.
func (s *Service) Resume(objs []Retained) {
	for _, o := range objs {
		switch o := o.(type) {
		case *PaymentRequest:
			if o.CanTransition(StateExpired) {
				s.scheduleRequest(o.AccountID, o.PaymentRequestID, o.ExpiresAt, rules.Decision{Customer: rules.CustomerWait})
			}
		case *PaymentTransaction:
			s.track(o)
		}
	}
}
