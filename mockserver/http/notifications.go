package http

import (
	"net/http"
	"strconv"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// EnableNotifications mounts Klarna's Notifications API (klarna-notifications.yaml: signing keys,
// webhooks, the simulator, and the mock-only delivery log), served by n. Call it once, before the
// server serves requests; without it those paths answer 404. Signing keys, webhooks and
// deliveries belong to the caller's tenant (see Accounts.Resolve), like every other object.
func (s *Server) EnableNotifications(n *webhook.Notifier) error {
	for _, rt := range s.notificationRoutes(notifications{n: n}) {
		if err := s.add(rt); err != nil {
			return err
		}
	}
	return nil
}

// notifications holds the handlers of the Notifications API.
type notifications struct{ n *webhook.Notifier }

// noContent answers 204.
func (notifications) noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a notifications) createSigningKey(w http.ResponseWriter, r *request) error {
	k, err := a.n.CreateSigningKey(r.tenant)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, k)
}

func (a notifications) listSigningKeys(w http.ResponseWriter, r *request) error {
	keys, err := a.n.ListSigningKeys(r.tenant)
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []*webhook.SigningKey{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"signing_keys": keys})
}

func (a notifications) readSigningKey(w http.ResponseWriter, r *request) error {
	k, err := a.n.ReadSigningKey(r.tenant, r.vars["signing_key_id"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, k)
}

func (a notifications) deleteSigningKey(w http.ResponseWriter, r *request) error {
	if err := a.n.DeleteSigningKey(r.tenant, r.vars["signing_key_id"]); err != nil {
		return err
	}
	return a.noContent(w)
}

func (a notifications) createWebhook(w http.ResponseWriter, r *request) error {
	var in webhook.WebhookInput
	if err := decodeJSON(r.body, &in); err != nil {
		return err
	}
	wh, err := a.n.CreateWebhook(r.tenant, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, wh)
}

func (a notifications) listWebhooks(w http.ResponseWriter, r *request) error {
	hooks, err := a.n.ListWebhooks(r.tenant)
	if err != nil {
		return err
	}
	if hooks == nil {
		hooks = []*webhook.Webhook{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"webhooks": hooks})
}

func (a notifications) readWebhook(w http.ResponseWriter, r *request) error {
	wh, err := a.n.ReadWebhook(r.tenant, r.vars["webhook_id"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wh)
}

func (a notifications) updateWebhook(w http.ResponseWriter, r *request) error {
	var p webhook.WebhookPatch
	if err := decodeJSON(r.body, &p); err != nil {
		return err
	}
	wh, err := a.n.UpdateWebhook(r.tenant, r.vars["webhook_id"], p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wh)
}

func (a notifications) deleteWebhook(w http.ResponseWriter, r *request) error {
	if err := a.n.DeleteWebhook(r.tenant, r.vars["webhook_id"]); err != nil {
		return err
	}
	return a.noContent(w)
}

// simulateWebhook answers 202 with the delivery; Klarna does not publish its answer's body.
func (a notifications) simulateWebhook(w http.ResponseWriter, r *request) error {
	var body struct {
		EventType    string `json:"event_type"`
		EventVersion string `json:"event_version"`
	}
	if err := decodeJSON(r.body, &body); err != nil {
		return err
	}
	d, err := a.n.Simulate(r.tenant, r.vars["webhook_id"], body.EventType, body.EventVersion)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, d)
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
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []*webhook.Delivery{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
}

// readDelivery is mock-only.
func (a notifications) readDelivery(w http.ResponseWriter, r *request) error {
	d, err := a.n.Delivery(r.tenant, r.vars["delivery_id"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}
