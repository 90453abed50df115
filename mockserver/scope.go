package mockserver

import "strings"

// Scope returns the string every stored object's AccountID holds: the partner account of the
// request path, qualified by the tenant whose state it is. By default each API key is its own
// tenant, so parallel CI jobs sharing one mock never see each other's objects even on the same
// partner account id; when keys are mapped to accounts, the account is the tenant.
func Scope(tenant, partnerAccountID string) string {
	return tenant + "/" + partnerAccountID
}

// SplitScope returns the tenant and partner account of a scope made by Scope.
func SplitScope(scope string) (tenant, partnerAccountID string) {
	tenant, partnerAccountID, _ = strings.Cut(scope, "/")
	return tenant, partnerAccountID
}
