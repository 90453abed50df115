package dashboard

// TransitionsOf tells the external tests how many state transitions h keeps of the tenant's
// Payment Request.
func TransitionsOf(h *Hub, tenant, requestID string) int {
	return len(h.transitions(tenant, requestID))
}
