package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// What the customer and Klarna do.

func (w *World) act(action string) error {
	o, err := w.journeyOp()
	if err != nil {
		return err
	}
	pr, err := w.env.klarna.Act(o.res.PaymentRequestID, action)
	if err != nil {
		return fmt.Errorf("the customer could not %s the Purchase Journey of Payment Request %s: %w", action, o.res.PaymentRequestID, err)
	}
	w.mu.Lock()
	o.journey = pr
	w.mu.Unlock()
	return nil
}

func (w *World) customerActs(what string) error {
	return w.act(map[string]string{
		"opens": "open", "approves the purchase in": "approve", "backs out of": "back-out", "abandons": "abandon",
	}[what])
}

func (w *World) klarnaDeclines() error { return w.act("decline") }

func (w *World) canceledAtKlarna() error {
	o, err := w.journeyOp()
	if err != nil {
		return err
	}
	pr, err := w.env.klarna.CancelPaymentRequest(w.env.apKlarnaKey, w.env.account, o.res.PaymentRequestID)
	if err != nil {
		return fmt.Errorf("the Payment Request %s could not be canceled at Klarna: %w", o.res.PaymentRequestID, err)
	}
	w.mu.Lock()
	o.journey = pr
	w.mu.Unlock()
	return nil
}

func (w *World) timePasses(n int, unit string) error {
	d := time.Duration(n) * time.Minute
	if strings.HasPrefix(unit, "hour") {
		d = time.Duration(n) * time.Hour
	}
	return w.advance(d)
}

// advance moves the scenario's tenant clock at the mock, the Acquiring Partner's key's (no other
// tenant's clock moves), once the webhooks due now have been attempted: an attempt that fails
// schedules its retry from the clock's time when it ends, so a move made under it would not walk
// past that retry.
func (w *World) advance(d time.Duration) error {
	if err := w.env.klarna.SettleWebhooks(w.env.apKlarnaKey, w.env.cfg.WaitTimeout); err != nil {
		return fmt.Errorf("before moving Klarna's clock: %w", err)
	}
	_, err := w.env.klarna.AdvanceClockFor(w.env.apKlarnaKey, d)
	return err
}

func (w *World) klarnaReachesAgain() error { return w.setOutage(false) }

// interceptedJourney returns the door in front of the Acquiring Partner and the session or
// charge whose Purchase Journey Klarna's webhooks are about.
func (w *World) interceptedJourney() (*frontDoor, *op, error) {
	f, err := w.inProcess()
	if err != nil {
		return nil, nil, err
	}
	o, err := w.journeyOp()
	return f, o, err
}

// completionMissing is the failure of a step that needs Klarna's completion webhook to have
// reached the Acquiring Partner.
func completionMissing(o *op) error {
	return fmt.Errorf("Klarna's completion webhook for Payment Request %s never reached the Acquiring Partner", o.res.PaymentRequestID)
}

// klarnaRetries walks Klarna's retry schedule (+10 s, +2 min, +15 min, +3 h, ...) on the mock's
// clock until the completion of the current Purchase Journey has reached the Acquiring Partner.
func (w *World) klarnaRetries(ctx context.Context) error {
	f, o, err := w.interceptedJourney()
	if err != nil {
		return err
	}
	for _, d := range []time.Duration{11 * time.Second, 2 * time.Minute, 15 * time.Minute, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour} {
		if err := w.advance(d); err != nil {
			return err
		}
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) && ctx.Err() == nil {
			if len(f.passed("payment.request.state-change.completed", o.res.PaymentRequestID)) > 0 {
				return nil
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return completionMissing(o)
}

// postWebhook posts a Klarna webhook to the Acquiring Partner past the door's recording.
func (w *World) postWebhook(ctx context.Context, header http.Header, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.env.klarnaWebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for _, h := range []string{"Content-Type", "Klarna-Signature", "Klarna-Signing-Key-Id"} {
		if v := header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Header.Set(forgedHeader, "1")
	resp, err := w.env.client.Do(req)
	if err != nil {
		return fmt.Errorf("posting a Klarna webhook to %s: %w", w.env.klarnaWebhookURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	w.webhookStatus, w.webhookBody = resp.StatusCode, string(b)
	return nil
}

func (w *World) postsForgedWebhook(ctx context.Context) error {
	o, err := w.journeyOp()
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{
		"metadata": map[string]any{
			"event_type": "payment.request.state-change.completed", "event_id": uuid.NewString(), "event_version": "v2",
			"occurred_at": time.Now().UTC().Format(time.RFC3339), "subject_account_id": w.env.account,
		},
		"payload": map[string]any{
			"payment_request_id": o.res.PaymentRequestID, "state": "COMPLETED", "previous_state": "IN_PROGRESS",
			"state_context": map[string]any{"klarna_network_session_token": "krn:payment:eu1:klarna-network-session-token:" + uuid.NewString()},
		},
	})
	if err != nil {
		return err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Klarna-Signature", sign("not-klarnas-secret", body))
	h.Set("Klarna-Signing-Key-Id", "krn:partner:global:notification:signing-key:static")
	return w.postWebhook(ctx, h, body)
}

func (w *World) deliversAgain(ctx context.Context) error {
	f, o, err := w.interceptedJourney()
	if err != nil {
		return err
	}
	ds := f.passed("payment.request.state-change.completed", o.res.PaymentRequestID)
	if len(ds) == 0 {
		return completionMissing(o)
	}
	return w.postWebhook(ctx, ds[0].header, ds[0].body)
}
