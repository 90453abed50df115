package dashboard

import (
	"net/http"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// maxDeliveriesShown is how many of a webhook's deliveries its page lists, newest first.
const maxDeliveriesShown = 100

type webhooksData struct {
	Enabled    bool
	Webhooks   []*webhook.Webhook
	Deliveries []*webhook.Delivery
	Due        webhook.DueReport
	Status     webhook.DeliveryStatus
}

func (db *Dashboard) webhooks(w http.ResponseWriter, r *http.Request, s *session) error {
	d := webhooksData{Enabled: db.Notifier != nil}
	var err error
	if d.Webhooks, d.Deliveries, err = db.deliveries(s.tenant, 20); err != nil {
		return err
	}
	if db.Notifier != nil {
		d.Due, d.Status = db.Notifier.Due(s.tenant), db.Notifier.Status(s.tenant)
	}
	db.render(w, r, http.StatusOK, "webhooks", base(r, s, "Webhooks", "webhooks", d))
	return nil
}

type webhookData struct {
	Webhook    *webhook.Webhook
	Deliveries []*webhook.Delivery
}

func (db *Dashboard) webhookPage(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	if db.Notifier == nil {
		return mockserver.NotFound("Webhook", id)
	}
	hooks, err := db.webhooksOf(s.tenant)
	if err != nil {
		return err
	}
	d := webhookData{}
	for _, h := range hooks {
		if h.WebhookID == id {
			d.Webhook = h
		}
	}
	if d.Webhook == nil {
		return mockserver.NotFound("Webhook", id)
	}
	if d.Deliveries, err = db.Notifier.Deliveries(s.tenant, id, maxDeliveriesShown); err != nil {
		return err
	}
	db.render(w, r, http.StatusOK, "webhook", base(r, s, "Webhook "+shortID(id), "webhooks", d))
	return nil
}

// errNoWebhooks answers the delivery actions of a mock that sends no webhooks.
func errNoWebhooks() error {
	return mockserver.NewError(mockserver.CodeNotFound, "This mock sends no webhooks.")
}

// redeliver sends a delivery's event again as a new delivery, as
// POST /mock/v1/deliveries/{delivery_id}/redeliver does; the old one stays as it was.
func (db *Dashboard) redeliver(w http.ResponseWriter, r *http.Request, s *session) error {
	if db.Notifier == nil {
		return errNoWebhooks()
	}
	d, err := db.Notifier.Redeliver(s.tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	return done(w, r, Path+"/webhooks/"+d.WebhookID, "redeliver")
}

// pauseDeliveries holds the tenant's webhook attempts until resumeDeliveries, as
// POST /mock/v1/deliveries/pause and resume do.
func (db *Dashboard) pauseDeliveries(w http.ResponseWriter, r *http.Request, s *session) error {
	return db.setPaused(w, r, s, true)
}

func (db *Dashboard) resumeDeliveries(w http.ResponseWriter, r *http.Request, s *session) error {
	return db.setPaused(w, r, s, false)
}

func (db *Dashboard) setPaused(w http.ResponseWriter, r *http.Request, s *session, paused bool) error {
	if db.Notifier == nil {
		return errNoWebhooks()
	}
	notice := "resume"
	if paused {
		db.Notifier.Pause(s.tenant)
		notice = "pause"
	} else {
		db.Notifier.Resume(s.tenant)
	}
	db.Hub.Notify(s.tenant, Change{Kind: ChangeDelivery})
	return done(w, r, Path+"/webhooks", notice)
}
