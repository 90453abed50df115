package acquirer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// TestKeyPrefix starts every Partner API key accepted in test mode.
const TestKeyPrefix = "ap_test_"

// testPartnerPrefix starts the id of every Partner of test mode.
const testPartnerPrefix = "test_"

// Partner is a merchant using the AP's API.
type Partner struct {
	ID string
	// APIKey authenticates the Partner: "Authorization: Bearer <APIKey>".
	APIKey string
	// WebhookURL receives the AP's signed webhooks; empty means the Partner gets none.
	WebhookURL string
	// WebhookSecret signs them (AP-Signature).
	WebhookSecret string
	// KlarnaAccountID is the Klarna partner account the Partner's payments go to; empty means
	// the AP's default account.
	KlarnaAccountID string
}

// TestMode accepts any API key starting with TestKeyPrefix as a Partner of its own, so tests
// (and parallel CI jobs sharing one AP) need no partners file and never see each other's
// payments. Every such Partner gets the same webhook URL and secret.
type TestMode struct {
	WebhookURL    string
	WebhookSecret string
}

// Partners is the directory of Partners, by API key and by id. It is read-only once built and
// safe for concurrent use.
type Partners struct {
	// byKeyDigest holds Partners by the SHA-256 of their key, so lookups neither keep plain
	// keys around nor compare them byte by byte.
	byKeyDigest map[[32]byte]Partner
	byID        map[string]Partner
	test        *TestMode
}

// NewPartners builds the directory from configured Partners and, when test is not nil, test
// mode.
func NewPartners(list []Partner, test *TestMode) (*Partners, error) {
	ps := &Partners{byKeyDigest: map[[32]byte]Partner{}, byID: map[string]Partner{}, test: test}
	if len(list) == 0 && test == nil {
		return nil, errors.New("no partners configured and test mode off: nobody could use the API")
	}
	for i, p := range list {
		switch {
		case p.ID == "" || p.APIKey == "":
			return nil, fmt.Errorf("partners[%d]: id and api_key are required", i)
		case strings.HasPrefix(p.ID, testPartnerPrefix) && test != nil:
			return nil, fmt.Errorf("partners[%d]: id %q: ids starting with %q are test mode's", i, p.ID, testPartnerPrefix)
		case p.WebhookURL != "" && p.WebhookSecret == "":
			return nil, fmt.Errorf("partners[%d]: a webhook_url needs a webhook_secret to sign with", i)
		}
		digest := sha256.Sum256([]byte(p.APIKey))
		if _, dup := ps.byKeyDigest[digest]; dup {
			return nil, fmt.Errorf("partners[%d]: api_key listed twice", i)
		}
		if _, dup := ps.byID[p.ID]; dup {
			return nil, fmt.Errorf("partners[%d]: id %q listed twice", i, p.ID)
		}
		ps.byKeyDigest[digest] = p
		ps.byID[p.ID] = p
	}
	return ps, nil
}

// Authenticate returns the Partner an API key belongs to.
func (ps *Partners) Authenticate(apiKey string) (Partner, bool) {
	if apiKey == "" {
		return Partner{}, false
	}
	digest := sha256.Sum256([]byte(apiKey))
	if p, ok := ps.byKeyDigest[digest]; ok {
		return p, true
	}
	if ps.test == nil || !strings.HasPrefix(apiKey, TestKeyPrefix) || len(apiKey) == len(TestKeyPrefix) {
		return Partner{}, false
	}
	p := ps.testPartner(testPartnerPrefix + hex.EncodeToString(digest[:8]))
	p.APIKey = apiKey
	return p, true
}

// Partner returns the Partner with an id.
func (ps *Partners) Partner(id string) (Partner, bool) {
	if p, ok := ps.byID[id]; ok {
		return p, true
	}
	if ps.test != nil && strings.HasPrefix(id, testPartnerPrefix) {
		return ps.testPartner(id), true
	}
	return Partner{}, false
}

func (ps *Partners) testPartner(id string) Partner {
	return Partner{ID: id, WebhookURL: ps.test.WebhookURL, WebhookSecret: ps.test.WebhookSecret}
}
