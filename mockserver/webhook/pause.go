package webhook

// PauseState is the answer to Pause and Resume: whether the tenant's deliveries are paused now.
type PauseState struct {
	Paused bool `json:"paused"`
}

// DeliveryStatus is what Status reports of a tenant's deliveries.
type DeliveryStatus struct {
	// Paused reports that the tenant paused its deliveries.
	Paused bool `json:"paused"`
	// Pending counts the tenant's deliveries queued, being attempted or waiting for a retry (or
	// for the resume): those MaxPendingPerTenant bounds.
	Pending int `json:"pending"`
	// InFlight counts the tenant's attempts under way.
	InFlight int `json:"in_flight"`
}

// Pause holds the tenant's deliveries: from now on no attempt of the tenant starts. A delivery
// that falls due meanwhile (a new one, or a retry whose time comes) waits in its tenant's queues,
// neither attempted nor failed, with none of its attempts used, until Resume. Attempts already
// under way finish. Events still become deliveries, within MaxPendingPerTenant. Only this tenant
// is held: no other tenant's delivery waits for it, and the workers serve the others as before.
// Pausing a paused tenant changes nothing; ForgetTenant (a reset) ends the pause.
func (n *Notifier) Pause(tenant string) PauseState {
	n.mu.Lock()
	n.paused[tenant] = true
	if t := n.tenants[tenant]; t != nil {
		// The ready queues stay in t.ready, in the order they fell due.
		n.leaveRingLocked(t)
	}
	n.mu.Unlock()
	n.pauseChanged(tenant, true)
	return PauseState{Paused: true}
}

// pauseChanged tells Config.PauseChanged, if any, of a pause or resume.
func (n *Notifier) pauseChanged(tenant string, paused bool) {
	if n.cfg.PauseChanged != nil {
		n.cfg.PauseChanged(tenant, paused)
	}
}

// Resume ends the tenant's pause: the deliveries that fell due while it lasted are attempted in
// the order they fell due (which the clock fires retries in: their schedule's), each FIFO still
// in order, with at most MaxInFlightPerTenant at once and the tenant taking its turn among the
// others. A retry not yet due keeps its time. Resuming a tenant that is not paused changes
// nothing.
func (n *Notifier) Resume(tenant string) PauseState {
	n.mu.Lock()
	delete(n.paused, tenant)
	if t := n.tenants[tenant]; t != nil {
		n.offerLocked(t)
	}
	n.mu.Unlock()
	n.pauseChanged(tenant, false)
	return PauseState{Paused: false}
}

// Status reports whether the tenant is paused and how many of its deliveries are pending and
// being attempted.
func (n *Notifier) Status(tenant string) DeliveryStatus {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := DeliveryStatus{Paused: n.paused[tenant]}
	if t := n.tenants[tenant]; t != nil {
		s.Pending, s.InFlight = t.pending, t.inFlight
	}
	return s
}
