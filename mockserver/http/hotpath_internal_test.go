package http

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// TestHeaderNamesCanonical checks the names of the headers the server assigns without
// Header.Set, where a name not in canonical form would go out as a second header beside Set's,
// and reads without Header.Get (headerValue), where it would never be found.
func TestHeaderNamesCanonical(t *testing.T) {
	t.Parallel()
	for _, name := range []string{headerKlarnaCorrelationID, headerPartnerCorrelationID, HeaderRule, HeaderFault,
		headerAuthorization, headerIdempotencyKey, headerContentType, mockserver.HeaderCustomerToken,
		mockserver.HeaderNetworkSessionToken, mockserver.HeaderPaymentToken, mockserver.HeaderInteroperabilityToken} {
		require.Equal(t, http.CanonicalHeaderKey(name), name)
	}
}

// TestCorrelate checks both correlation headers, which share one slice, stay apart.
func TestCorrelate(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set(headerPartnerCorrelationID, "abc123")
	w := httptest.NewRecorder()
	var ids [2]string
	correlate(w.Header(), r, &ids)
	w.Header().Add(headerKlarnaCorrelationID, "second")
	require.Equal(t, []string{"abc123"}, w.Header().Values(headerPartnerCorrelationID))
	require.Len(t, w.Header().Values(headerKlarnaCorrelationID), 2)

	r.Header.Set(headerPartnerCorrelationID, "not-valid")
	w = httptest.NewRecorder()
	correlate(w.Header(), r, new([2]string))
	require.Empty(t, w.Header().Values(headerPartnerCorrelationID))
	require.Len(t, w.Header().Values(headerKlarnaCorrelationID), 1)
}

// TestBaseURLFollowsTheRequest checks the base URL kept from one request is not another's.
func TestBaseURLFollowsTheRequest(t *testing.T) {
	t.Parallel()
	s := &Server{}
	a := httptest.NewRequest(http.MethodGet, "http://a.example/", nil)
	b := httptest.NewRequest(http.MethodGet, "http://b.example/", nil)
	for range 2 {
		require.Equal(t, "http://a.example", s.baseURL(a))
		require.Equal(t, "http://b.example", s.baseURL(b))
	}
	a.TLS = &tls.ConnectionState{}
	require.Equal(t, "https://a.example", s.baseURL(a))
	require.Equal(t, "https://public.example", (&Server{publicURL: "https://public.example"}).baseURL(a))
}

// TestKeyTenantsRemembered checks a test key's tenant is the same from the cache as computed,
// and that a full cache starts again rather than grow.
func TestKeyTenantsRemembered(t *testing.T) {
	t.Parallel()
	var a Accounts
	first, err := a.Resolve("Basic "+TestKeyPrefix+"one", "")
	require.NoError(t, err)
	again, err := a.Resolve("Basic "+TestKeyPrefix+"one", "")
	require.NoError(t, err)
	none, err := (*Accounts)(nil).Resolve("Basic "+TestKeyPrefix+"one", "")
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Equal(t, first, none)
	require.Equal(t, testKeyTenant(TestKeyPrefix+"one"), first)
	for i := range maxMemo + 1 {
		key := TestKeyPrefix + strconv.Itoa(i)
		require.Equal(t, testKeyTenant(key), a.tenants.get(key, testKeyTenant))
	}
	require.LessOrEqual(t, len(a.tenants.m), maxMemo)
}

// TestAccountVarsShared checks the path variables of a route whose one variable is the partner
// account: the same map for every call of an account, another account's its own, and a fresh one
// for an account too long to remember; a route with more variables gets them all.
func TestAccountVarsShared(t *testing.T) {
	t.Parallel()
	var remembered memo[string, map[string]string]
	p, err := newPathPattern(http.MethodPost, "/v2/accounts/{partner_account_id}/payment/authorize")
	require.NoError(t, err)
	require.Equal(t, 2, p.account)
	p.accountVars = &remembered
	a := p.varsOf("/v2/accounts/acct-a/payment/authorize")
	require.Equal(t, map[string]string{varAccount: "acct-a"}, a)
	require.Equal(t, reflect.ValueOf(a).Pointer(), reflect.ValueOf(p.varsOf("/v2/accounts/acct-a/payment/authorize")).Pointer(), "one map per account")
	require.Equal(t, map[string]string{varAccount: "acct-b"}, p.varsOf("/v2/accounts/acct-b/payment/authorize"))
	long := strings.Repeat("x", maxMemoKey+1)
	require.Equal(t, map[string]string{varAccount: long}, p.varsOf("/v2/accounts/"+long+"/payment/authorize"))
	require.Len(t, remembered.m, 2, "the long account is not remembered")

	two, err := newPathPattern(http.MethodGet, "/mock/v1/accounts/{partner_account_id}/customer-tokens/{customer_token}")
	require.NoError(t, err)
	require.Equal(t, -1, two.account)
	require.Equal(t, map[string]string{varAccount: "a", "customer_token": "t"}, two.varsOf("/mock/v1/accounts/a/customer-tokens/t"))
}

// TestRuleHeaderShared checks the Klarna-Mock-Rule values: one slice per rule, which an Add
// does not change, and a fresh one for a name too long to remember.
func TestRuleHeaderShared(t *testing.T) {
	t.Parallel()
	s := &Server{}
	v := s.ruleHeader("approve-all")
	require.Equal(t, []string{"approve-all"}, v)
	require.Same(t, &v[0], &s.ruleHeader("approve-all")[0])
	h := http.Header{HeaderRule: v}
	h.Add(HeaderRule, "second")
	require.Equal(t, []string{"approve-all"}, s.ruleHeader("approve-all"), "an Add appends to a copy")
	long := strings.Repeat("r", maxMemoKey+1)
	require.Equal(t, []string{long}, s.ruleHeader(long))
	require.Len(t, s.ruleHeaders.m, 1)
}

// TestLongKeysNotRemembered checks a memo keeps no key longer than maxMemoKey, whatever a
// client sends, and that the value is the same computed afresh.
func TestLongKeysNotRemembered(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("k", maxMemoKey+1)
	var a Accounts
	tenant, err := a.Resolve("Basic "+TestKeyPrefix+long, "")
	require.NoError(t, err)
	require.Equal(t, testKeyTenant(TestKeyPrefix+long), tenant)
	require.Empty(t, a.tenants.m)

	s := &Server{}
	require.Equal(t, mockserver.Scope("tenant", long), s.scope("tenant", long))
	require.Empty(t, s.scopes.m)
	require.Equal(t, mockserver.Scope("tenant", "acct"), s.scope("tenant", "acct"))
	require.Equal(t, mockserver.Scope("tenant", "acct"), s.scope("tenant", "acct"), "remembered")
	require.Len(t, s.scopes.m, 1)
}
