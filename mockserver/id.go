package mockserver

import "crypto/rand"

// NewID returns prefix followed by a new random UUID (version 4, RFC 9562), such as
// "krn:payment:eu1:transaction:3b2e…": the ids the mock issues (docs/klarna.md §4, §7, §12). It
// builds the id in one allocation, the string itself, where prefix + uuid.NewString() makes
// three; ids are made on every authorize.
func NewID(prefix string) string {
	var u [16]byte
	// crypto/rand.Read never fails (it crashes the program instead), as uuid.New relies on.
	_, _ = rand.Read(u[:])
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
