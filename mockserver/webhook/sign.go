package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Sign returns the Klarna-Signature of body: the lowercase hex HMAC-SHA256 of the exact raw body
// with the secret as key.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether signature is the Klarna-Signature of body under secret. The comparison is
// constant-time; hex digits of either case are accepted. A receiver should answer 400 when it
// reports false.
func Verify(secret, body []byte, signature string) bool {
	got, err := hex.DecodeString(signature)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}
