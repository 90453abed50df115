package mockserver

import (
	"encoding/binary"
	"math/rand/v2"
)

// NewID returns prefix followed by a new random UUID (version 4, RFC 9562), such as
// "krn:payment:eu1:transaction:3b2e…": the ids the mock issues (docs/klarna.md §4, §7, §12). It
// builds the id in one allocation, the string itself, where prefix + uuid.NewString() makes
// three; ids are made on every authorize.
//
// The random bits come from math/rand/v2's top-level functions: the runtime's generator of each
// thread, seeded from the operating system, the same ChaCha8 algorithm as math/rand/v2's ChaCha8
// type, which that package documents as cryptographically strong. That is what ids need, unique
// and unguessable, including those that act as a capability: the payment request id in the public
// Purchase Journey URL, network session and customer tokens (which also take the tenant's API
// key). It costs a fraction of crypto/rand's DRBG, which took about 1% of an authorize's CPU for
// the two ids or more each one makes. Secrets do not come from here: a webhook signing key's
// keeps crypto/rand (mockserver/webhook).
func NewID(prefix string) string {
	var u [16]byte
	binary.LittleEndian.PutUint64(u[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(u[8:], rand.Uint64())
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // the RFC's variant
	const digits = "0123456789abcdef"
	// Built on the stack, room enough for every prefix the mock uses, so that only the string
	// is allocated (append moves a longer one to the heap).
	var stack [96]byte
	buf := append(stack[:0], prefix...)
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			buf = append(buf, '-')
		}
		buf = append(buf, digits[b>>4], digits[b&0x0f])
	}
	return string(buf)
}
