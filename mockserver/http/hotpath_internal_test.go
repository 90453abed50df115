package http

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHeaderNamesCanonical checks the names of the headers the server assigns without
// Header.Set: a name not in canonical form would go out as a second header beside Set's.
func TestHeaderNamesCanonical(t *testing.T) {
	t.Parallel()
	for _, name := range []string{headerKlarnaCorrelationID, headerPartnerCorrelationID, HeaderRule} {
		require.Equal(t, http.CanonicalHeaderKey(name), name)
	}
}

// TestCorrelate checks both correlation headers, which share one slice, stay apart.
func TestCorrelate(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set(headerPartnerCorrelationID, "abc123")
	w := httptest.NewRecorder()
	correlate(w, r)
	w.Header().Add(headerKlarnaCorrelationID, "second")
	require.Equal(t, []string{"abc123"}, w.Header().Values(headerPartnerCorrelationID))
	require.Len(t, w.Header().Values(headerKlarnaCorrelationID), 2)

	r.Header.Set(headerPartnerCorrelationID, "not-valid")
	w = httptest.NewRecorder()
	correlate(w, r)
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
