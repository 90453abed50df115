package http

import (
	"net/http"
	"strconv"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// EnableNotifications mounts Klarna's Notifications API (klarna-notifications.yaml: signing keys,
// webhooks and the simulator), the mock's delivery log (mock-control.yaml: what was delivered,
// and what is due) and its webhook tools (pause and resume, redeliver, send), served by n. Call it once, before the server serves requests;
// without it those paths answer 404. Signing keys, webhooks and deliveries belong to the caller's
// tenant (see Accounts.Resolve), like every other object.
func (s *Server) EnableNotifications(n *webhook.Notifier) error {
	for _, rt := range s.notificationRoutes(n) {
		if err := s.add(rt); err != nil {
			return err
		}
	}
	return nil
}

// The Notifier's methods take the caller's tenant first and then the object the path names; the
// adapters below make route handlers of them, so that the route table names the method that
// answers each route. What fits none of them is a method of notifications.

// reply returns the function that writes a call's result as JSON with status, or returns the
// call's error.
func reply(w http.ResponseWriter, status int) func(v any, err error) error {
	return func(v any, err error) error {
		if err != nil {
			return err
		}
		return writeJSON(w, status, v)
	}
}

// tenantCall answers status with what call returns for the caller's tenant.
func tenantCall[T any](status int, call func(tenant string) (T, error)) handlerFunc {
	return func(w http.ResponseWriter, r *request) error {
		return reply(w, status)(call(r.tenant))
	}
}

// listCall answers 200 with {name: [...]}, the list call returns for the caller's tenant.
func listCall[T any](name string, call func(tenant string) ([]T, error)) handlerFunc {
	return tenantCall(http.StatusOK, func(tenant string) (map[string][]T, error) {
		list, err := call(tenant)
		return map[string][]T{name: list}, err
	})
}

// stateCall answers 200 with what call, which cannot fail, reports for the caller's tenant.
func stateCall[T any](call func(tenant string) T) handlerFunc {
	return func(w http.ResponseWriter, r *request) error {
		return writeJSON(w, http.StatusOK, call(r.tenant))
	}
}

// objectCall answers 200 with what call returns for the tenant's object named by the path
// variable idVar.
func objectCall[T any](idVar string, call func(tenant, id string) (T, error)) handlerFunc {
	return func(w http.ResponseWriter, r *request) error {
		return reply(w, http.StatusOK)(call(r.tenant, r.vars[idVar]))
	}
}

// deleteCall answers 204 once call has deleted the tenant's object named by the path variable
// idVar.
func deleteCall(idVar string, call func(tenant, id string) error) handlerFunc {
	return func(w http.ResponseWriter, r *request) error {
		if err := call(r.tenant, r.vars[idVar]); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// bodyCall answers status with what call returns for the request and its JSON body decoded
// into a B; a body that does not decode is a 400 naming the field.
func bodyCall[B, T any](status int, call func(r *request, body B) (T, error)) handlerFunc {
	return func(w http.ResponseWriter, r *request) error {
		var body B
		if err := decodeJSON(r.body, &body); err != nil {
			return err
		}
		return reply(w, status)(call(r, body))
	}
}

// notifications holds the handlers that fit no adapter.
type notifications struct{ n *webhook.Notifier }

func (a notifications) createWebhook(r *request, in webhook.WebhookInput) (*webhook.Webhook, error) {
	return a.n.CreateWebhook(r.tenant, in)
}

func (a notifications) updateWebhook(r *request, p webhook.WebhookPatch) (*webhook.Webhook, error) {
	return a.n.UpdateWebhook(r.tenant, r.vars["webhook_id"], p)
}

// simulation is the body of a simulate call.
type simulation struct {
	EventType    string `json:"event_type"`
	EventVersion string `json:"event_version"`
}

// simulateWebhook answers with the delivery; Klarna does not publish its answer's body.
func (a notifications) simulateWebhook(r *request, in simulation) (*webhook.Delivery, error) {
	return a.n.Simulate(r.tenant, r.vars["webhook_id"], in.EventType, in.EventVersion)
}

// listDeliveries is mock-only: what the mock delivered to a webhook, newest first.
func (a notifications) listDeliveries(w http.ResponseWriter, r *request) error {
	limit := webhook.DefaultDeliveryLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > webhook.MaxDeliveryLimit {
			return mockserver.Invalid("limit", "must be an integer from 1 to "+strconv.Itoa(webhook.MaxDeliveryLimit))
		}
		limit = n
	}
	ds, err := a.n.Deliveries(r.tenant, r.vars["webhook_id"], limit)
	return reply(w, http.StatusOK)(map[string]any{"deliveries": ds}, err)
}

// redeliver is mock-only: the delivery's event again, now, as a new delivery.
func (a notifications) redeliver(w http.ResponseWriter, r *request) error {
	return reply(w, http.StatusAccepted)(a.n.Redeliver(r.tenant, r.vars["delivery_id"]))
}

// sendToWebhook is mock-only: an event of the tenant's again, plain or hostile, as new
// deliveries listed in the order they go out.
func (a notifications) sendToWebhook(r *request, in webhook.SendInput) (map[string][]*webhook.Delivery, error) {
	ds, err := a.n.Send(r.tenant, r.vars["webhook_id"], in)
	return map[string][]*webhook.Delivery{"deliveries": ds}, err
}
