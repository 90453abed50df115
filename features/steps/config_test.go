package steps

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func fakeEnv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestConfigFromEnvAndDefaults(t *testing.T) {
	t.Parallel()
	c, err := ConfigFromEnv(fakeEnv(nil))
	require.NoError(t, err)
	s, err := New(c)
	require.NoError(t, err)
	require.True(t, s.Config().InProcessAcquirer())
	require.False(t, s.Config().SharedTenant())
	require.Equal(t, DefaultPartnerKeyPrefix, s.Config().PartnerKeyPrefix)
	require.Equal(t, DefaultWaitTimeout, s.Config().WaitTimeout)
	require.Equal(t, 8, s.Concurrency(8))

	c, err = ConfigFromEnv(fakeEnv(map[string]string{"ACQUIRER_URL": "http://127.0.0.1:8490/", "KLARNA_MOCK_URL": "http://127.0.0.1:8480", "CONTRACT_WAIT_TIMEOUT": "3s"}))
	require.NoError(t, err)
	s, err = New(c)
	require.NoError(t, err)
	got := s.Config()
	require.Equal(t, "http://127.0.0.1:8490", got.AcquirerURL)
	require.Equal(t, "http://127.0.0.1:8490/klarna/webhooks", got.AcquirerKlarnaWebhookURL)
	require.Equal(t, DefaultAcquirerKlarnaAPIKey, got.KlarnaAPIKey)
	require.Equal(t, DefaultAcquirerKlarnaAccountID, got.KlarnaAccountID)
	require.Equal(t, DefaultPartnerWebhookURL, got.PartnerWebhookURL)
	require.Equal(t, 3*time.Second, got.WaitTimeout)
	require.True(t, got.SharedTenant())
	require.Equal(t, 1, s.Concurrency(8), "the scenarios share the Acquiring Partner's tenant, and its clock")

	// The key the Acquiring Partner uses at the mock, under either name.
	c, err = ConfigFromEnv(fakeEnv(map[string]string{"ACQUIRER_URL": "http://127.0.0.1:8490", "KLARNA_MOCK_URL": "http://127.0.0.1:8480", "KLARNA_MOCK_API_KEY": "klarna_test_api_theirs"}))
	require.NoError(t, err)
	require.Equal(t, "klarna_test_api_theirs", c.KlarnaAPIKey)
	c, err = ConfigFromEnv(fakeEnv(map[string]string{"ACQUIRER_KLARNA_API_KEY": "klarna_test_api_acquirer", "KLARNA_MOCK_API_KEY": "klarna_test_api_theirs"}))
	require.NoError(t, err)
	require.Equal(t, "klarna_test_api_acquirer", c.KlarnaAPIKey)

	// The reference Acquiring Partner in process against a shared mock: a fresh tenant per
	// scenario, so scenarios may run at once.
	s, err = New(Config{KlarnaMockURL: "http://127.0.0.1:8480"})
	require.NoError(t, err)
	require.False(t, s.Config().SharedTenant())
	require.Equal(t, 8, s.Concurrency(8))
	s, err = New(Config{KlarnaMockURL: "http://127.0.0.1:8480", KlarnaAPIKey: "klarna_test_api_fixed"})
	require.NoError(t, err)
	require.Equal(t, 1, s.Concurrency(8))
}

func TestConfigMistakes(t *testing.T) {
	t.Parallel()
	_, err := ConfigFromEnv(fakeEnv(map[string]string{"CONTRACT_WAIT_TIMEOUT": "soon"}))
	require.ErrorContains(t, err, "CONTRACT_WAIT_TIMEOUT")
	_, err = ConfigFromEnv(fakeEnv(map[string]string{"CONTRACT_LOG": "loud"}))
	require.ErrorContains(t, err, "CONTRACT_LOG")
	_, err = New(Config{AcquirerURL: "http://127.0.0.1:8490"})
	require.ErrorContains(t, err, "KLARNA_MOCK_URL")
	_, err = New(Config{AcquirerURL: "http://127.0.0.1:8490", KlarnaMockURL: "http://127.0.0.1:8480",
		WrapAcquirerKlarnaTransport: func(rt http.RoundTripper) http.RoundTripper { return rt }})
	require.ErrorContains(t, err, "in-process")
}

func TestPartnerSignature(t *testing.T) {
	t.Parallel()
	body := []byte(`{"event_id":"evt_1"}`)
	sig := sign("whsec", body)
	require.True(t, validSignature("whsec", body, sig))
	require.False(t, validSignature("other", body, sig))
	require.False(t, validSignature("whsec", body, "00"+sig[2:]))
	require.False(t, validSignature("whsec", append(body, ' '), sig))
	require.False(t, validSignature("whsec", body, ""))
}

func TestRulesNameThemselves(t *testing.T) {
	t.Parallel()
	err := broke(RuleNetworkDataUnaltered, "sent %q, Partner gave %q", "a", "b")
	require.EqualError(t, err, `broken rule [network-data-unaltered]: the Acquiring Partner must forward klarna_network_data unaltered: sent "a", Partner gave "b"`)
	require.Nil(t, Violations(nil).err())
}
