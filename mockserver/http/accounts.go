package http

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// TestKeyPrefix starts every API key the mock accepts when no accounts file is given.
const TestKeyPrefix = "klarna_test_api_"

// Accounts decides which API keys are accepted and whose state they see. The zero value (or
// nil) accepts any key starting with TestKeyPrefix and gives each key its own isolated state, so
// parallel CI jobs can share one mock; an accounts file maps keys to partner accounts instead.
type Accounts struct {
	byKey map[string]string
	// tenants remembers the tenant of each test key resolved lately, so that a key's every call
	// after its first skips hashing it (testKeyTenant).
	tenants memo[string, string]
}

// testKeyTenant is the tenant of a test key without an accounts file: a digest of the key, not
// the key, since tenants show in logs, metrics, the dashboard and exported state, where the key,
// the one secret keeping tenants apart, must not.
func testKeyTenant(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "key-" + hex.EncodeToString(sum[:8])
}

// accountsFile is the YAML shape of an accounts file.
type accountsFile struct {
	Accounts []struct {
		APIKey           string `yaml:"api_key"`
		PartnerAccountID string `yaml:"partner_account_id"`
	} `yaml:"accounts"`
}

// LoadAccounts parses an accounts file:
//
//	accounts:
//	  - api_key: klarna_test_api_team_a
//	    partner_account_id: krn:partner:global:account:test:TEAMA001
//
// Errors name the file and line.
func LoadAccounts(name string, data []byte) (*Accounts, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f accountsFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(f.Accounts) == 0 {
		return nil, fmt.Errorf("%s: no accounts listed", name)
	}
	a := &Accounts{byKey: make(map[string]string, len(f.Accounts))}
	for i, acc := range f.Accounts {
		switch {
		case acc.APIKey == "" || acc.PartnerAccountID == "":
			return nil, fmt.Errorf("%s: accounts[%d]: api_key and partner_account_id are both required", name, i)
		case strings.Contains(acc.PartnerAccountID, "/"):
			return nil, fmt.Errorf("%s: accounts[%d]: partner_account_id may not contain '/'", name, i)
		case a.byKey[acc.APIKey] != "":
			return nil, fmt.Errorf("%s: accounts[%d]: api_key listed twice", name, i)
		}
		a.byKey[acc.APIKey] = acc.PartnerAccountID
	}
	return a, nil
}

// apiKey extracts the API key from an Authorization header. Klarna's form is "Basic <API key>";
// the standard Basic form, base64("<API key>:"), as curl -u sends it, is accepted too.
func apiKey(header string) (string, bool) {
	scheme, cred, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	if cred == "" {
		return "", false
	}
	if strings.HasPrefix(cred, TestKeyPrefix) || strings.HasPrefix(cred, "klarna_live_api_") {
		return cred, true
	}
	if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
		user, pass, _ := strings.Cut(string(raw), ":")
		if user == "" {
			user = pass
		}
		return user, user != ""
	}
	return cred, true
}

// errUnauthorized is what a missing or refused key gets.
func errUnauthorized(why string) *mockserver.Error {
	return mockserver.NewError(mockserver.CodeUnauthorized, why)
}

// Resolve authenticates the Authorization header and returns the tenant whose state the call
// sees. pathAccount is the {partner_account_id} of the path ("" for paths without one); with an
// accounts file a key used on another account's path is refused with 403.
func (a *Accounts) Resolve(authorization, pathAccount string) (tenant string, err error) {
	key, ok := apiKey(authorization)
	if !ok {
		return "", errUnauthorized("Send your API key as 'Authorization: Basic <API key>'.")
	}
	if a == nil || a.byKey == nil {
		if !strings.HasPrefix(key, TestKeyPrefix) || len(key) == len(TestKeyPrefix) {
			return "", errUnauthorized("The mock accepts test API keys starting with " + TestKeyPrefix + ".")
		}
		if a == nil || len(key) > maxMemoKey {
			return testKeyTenant(key), nil
		}
		return a.tenants.get(key, testKeyTenant), nil
	}
	account, ok := a.byKey[key]
	if !ok {
		return "", errUnauthorized("The API key is not known to this mock's accounts file.")
	}
	if pathAccount != "" && pathAccount != account {
		return "", mockserver.NewError(mockserver.CodeForbidden,
			"The API key belongs to another partner account than "+pathAccount+".")
	}
	return account, nil
}
