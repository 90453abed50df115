package mockserver

// PendingTimers reports how many Payment Requests the service keeps timers for, so tests can
// check that finished requests leave none behind.
func PendingTimers(s *Service) int { return s.timers.pending() }
