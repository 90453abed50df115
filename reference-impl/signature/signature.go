// Package signature signs and verifies webhook bodies the way Klarna and the reference acquirer
// both do: the signature is the lowercase hex HMAC-SHA256 of the exact raw body, keyed with a
// shared secret. Klarna signs its webhooks so (header Klarna-Signature, docs/klarna.md §8), and
// the acquirer signs its Partner webhooks the same way (header AP-Signature,
// contracts/acquirer.yaml).
//
// Neither scheme signs a timestamp, so a signature does not go stale: receivers guard against
// replays by de-duplicating event ids, which the acquirer does for Klarna's events and asks of
// Partners for its own.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Sign returns the signature of body under secret. The secret is used as given, byte for byte:
// Klarna's signing key exactly as Klarna returned it, or the Partner's webhook secret.
func Sign(secret string, body []byte) string {
	return hex.EncodeToString(mac(secret, body))
}

// Verify reports whether signature is the signature of body under secret. It compares in
// constant time, so a forger learns nothing from how long a refusal takes, and refuses anything
// that is not 64 hex digits.
func Verify(secret string, body []byte, signature string) bool {
	got, err := hex.DecodeString(signature)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	return hmac.Equal(got, mac(secret, body))
}

func mac(secret string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body) // A hash.Hash never returns an error from Write.
	return m.Sum(nil)
}
