package webhook

import (
	"slices"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// refuseDuplicate returns the 409 Klarna's Notifications API answers when "the webhook
// configuration already exists" (docs/klarna.md §8): another webhook of w's account sends the
// same event types, in any order, to the same url. It returns nil when there is none. What makes
// two configurations the same is the mock's reading; Klarna does not spell it out.
func refuseDuplicate(tx Tx, w *Webhook) error {
	others, err := tx.Webhooks(w.AccountID)
	if err != nil {
		return err
	}
	types := sortedTypes(w.EventTypes)
	for _, o := range others {
		if o.WebhookID != w.WebhookID && o.URL == w.URL && slices.Equal(sortedTypes(o.EventTypes), types) {
			return mockserver.NewError(mockserver.CodeAlreadyExists,
				"The webhook configuration already exists: webhook "+o.WebhookID+" already sends these event types to this url. Update or delete it instead.")
		}
	}
	return nil
}

func sortedTypes(types []string) []string {
	s := slices.Clone(types)
	slices.Sort(s)
	return s
}
