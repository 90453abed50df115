package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// deliveriesCommand reads the API key's webhook deliveries and drives them (docs/webhooks.md):
// klarna-mock deliveries list WEBHOOK_ID | show DELIVERY_ID | due | status | pause | resume |
// redeliver DELIVERY_ID | send WEBHOOK_ID VARIANT EVENT.
func deliveriesCommand() command {
	get := func(path string) func(ctx context.Context, c *client, args []string, stdout io.Writer) error {
		return func(ctx context.Context, c *client, args []string, stdout io.Writer) error {
			return c.do(ctx, http.MethodGet, withArgs(path, args), nil, stdout)
		}
	}
	post := func(path string) func(ctx context.Context, c *client, args []string, stdout io.Writer) error {
		return func(ctx context.Context, c *client, args []string, stdout io.Writer) error {
			return c.do(ctx, http.MethodPost, withArgs(path, args), nil, stdout)
		}
	}
	return command{
		name:    "deliveries",
		summary: "read the API key's webhook deliveries, pause or resume them, redeliver one, or send an event again, plain or hostile",
		actions: []action{{
			name:    "list",
			args:    []string{"WEBHOOK_ID"},
			summary: "print the webhook's deliveries, newest first, with every attempt",
			do:      get("/mock/v1/webhooks/%s/deliveries"),
		}, {
			name:    "show",
			args:    []string{"DELIVERY_ID"},
			summary: "print one delivery",
			do:      get("/mock/v1/deliveries/%s"),
		}, {
			name:    "due",
			summary: "print the deliveries due now and the events not yet turned into deliveries",
			do:      get("/mock/v1/deliveries/due"),
		}, {
			name:    "status",
			summary: "print whether the API key's deliveries are paused, and how many are pending and in flight",
			do:      get("/mock/v1/deliveries/status"),
		}, {
			name:    "pause",
			summary: "hold the API key's deliveries: nothing is attempted (nor counted as an attempt) until resume",
			do:      post("/mock/v1/deliveries/pause"),
		}, {
			name:    "resume",
			summary: "send the held deliveries, in the order they fell due",
			do:      post("/mock/v1/deliveries/resume"),
		}, {
			name:    "redeliver",
			args:    []string{"DELIVERY_ID"},
			summary: "deliver the delivery's event again, now, as a new delivery to the same webhook",
			do:      post("/mock/v1/deliveries/%s/redeliver"),
		}, {
			name: "send",
			args: []string{"WEBHOOK_ID", "VARIANT", "EVENT"},
			summary: "send an event of the API key's again to the webhook as VARIANT (" + strings.Join(webhook.SendVariants(), ", ") +
				"); EVENT is a delivery id, an event id, or a resource id (its latest event)",
			do: func(ctx context.Context, c *client, args []string, stdout io.Writer) error {
				return c.do(ctx, http.MethodPost, withArgs("/mock/v1/webhooks/%s/send", args[:1]), sendBody(args[1], args[2]), stdout)
			},
		}},
	}
}

// withArgs fills path's %s, in order, with the arguments, escaped for a path.
func withArgs(path string, args []string) string {
	for _, a := range args {
		path = strings.Replace(path, "%s", url.PathEscape(a), 1)
	}
	return path
}

// sendBody is the body of a send: the variant, and the event named by what the argument looks
// like. The mock checks both and says what is wrong.
func sendBody(variant, event string) webhook.SendInput {
	in := webhook.SendInput{Variant: variant}
	switch {
	case strings.HasPrefix(event, webhook.DeliveryIDPrefix):
		in.DeliveryID = event
	case uuid.Validate(event) == nil:
		in.EventID = event
	default:
		in.Resource = event
	}
	return in
}
