package mockserver

// PendingTransactionTimers reports how many payment transactions the service keeps a timer for,
// so tests can check that a transaction's timer ends with its last timed transition.
func PendingTransactionTimers(s *Service) int { return s.txTimers.pending() }
