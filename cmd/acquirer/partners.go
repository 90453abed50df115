package main

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
)

// partnersFile is the YAML shape of a partners file:
//
//	partners:
//	  - id: shoes-inc
//	    api_key: ap_live_9f8e7d...
//	    webhook_url: https://shoes.example/hooks/acquirer
//	    webhook_secret: whsec_...
//	    klarna_account_id: krn:partner:global:account:test:SHOES001   # optional
type partnersFile struct {
	Partners []struct {
		ID              string `yaml:"id"`
		APIKey          string `yaml:"api_key"`
		WebhookURL      string `yaml:"webhook_url"`
		WebhookSecret   string `yaml:"webhook_secret"`
		KlarnaAccountID string `yaml:"klarna_account_id"`
	} `yaml:"partners"`
}

// loadPartners parses a partners file; unknown keys are refused, so a typo cannot silently
// leave a Partner without its webhook.
func loadPartners(name string, data []byte) ([]acquirer.Partner, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f partnersFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(f.Partners) == 0 {
		return nil, fmt.Errorf("%s: no partners listed", name)
	}
	list := make([]acquirer.Partner, len(f.Partners))
	for i, p := range f.Partners {
		list[i] = acquirer.Partner{ID: p.ID, APIKey: p.APIKey, WebhookURL: p.WebhookURL, WebhookSecret: p.WebhookSecret, KlarnaAccountID: p.KlarnaAccountID}
	}
	// NewPartners checks the list itself; checking here too names the file.
	if _, err := acquirer.NewPartners(list, nil); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return list, nil
}
