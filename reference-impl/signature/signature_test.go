package signature_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/reference-impl/signature"
)

// TestKnownVectors pins the scheme to plain HMAC-SHA256 in lowercase hex, so a Partner or Klarna
// computing it with any other library gets the same signature.
func TestKnownVectors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ secret, body, want string }{
		// RFC 4231, test case 2.
		{"Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"key", "The quick brown fox jumps over the lazy dog", "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"},
	} {
		require.Equal(t, tc.want, signature.Sign(tc.secret, []byte(tc.body)))
		require.True(t, signature.Verify(tc.secret, []byte(tc.body), tc.want))
	}
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	body := []byte(`{"event_id":"evt_1","event_type":"order.completed"}`)
	sig := signature.Sign("whsec", body)
	require.True(t, signature.Verify("whsec", body, sig))
	require.True(t, signature.Verify("whsec", body, strings.ToUpper(sig)), "hex digits are read in either case")

	for name, tc := range map[string]struct {
		secret string
		body   []byte
		sig    string
	}{
		"tampered body":      {"whsec", []byte(`{"event_id":"evt_1","event_type":"payment.declined"}`), sig},
		"one byte more":      {"whsec", append(append([]byte(nil), body...), ' '), sig},
		"wrong key":          {"other", body, sig},
		"empty key":          {"", body, sig},
		"not hex":            {"whsec", body, "zz" + sig[2:]},
		"truncated":          {"whsec", body, sig[:62]},
		"too long":           {"whsec", body, sig + "00"},
		"empty":              {"whsec", body, ""},
		"prefixed by scheme": {"whsec", body, "sha256=" + sig},
	} {
		require.False(t, signature.Verify(tc.secret, tc.body, tc.sig), name)
	}
}

func TestAnEmptyBodyIsSignedToo(t *testing.T) {
	t.Parallel()
	sig := signature.Sign("whsec", nil)
	require.Regexp(t, `^[0-9a-f]{64}$`, sig)
	require.True(t, signature.Verify("whsec", []byte{}, sig))
	require.False(t, signature.Verify("whsec", []byte("{}"), sig))
}
