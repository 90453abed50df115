package http

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// appendApproved appends to b the answer of an approved authorize that created a payment
// transaction, without captures or refunds (the answer every approved charge gets), byte for
// byte as json.Marshal writes it, without reflection (TestAppendApprovedAsMarshal and
// FuzzAppendApproved compare the two). It reports false for any other answer, and for one with a
// time json.Marshal refuses, which the caller then leaves to encoding/json: encoding the answer
// by reflection is about a twentieth of an approved authorize's CPU.
func appendApproved(b []byte, resp *mockserver.AuthorizeResponse) ([]byte, bool) {
	ptr := resp.PaymentTransactionResponse
	if ptr == nil || ptr.PaymentTransaction == nil || resp.PaymentRequest != nil || resp.CustomerTokenResponse != nil {
		return b, false
	}
	tr := ptr.PaymentTransaction
	spd := tr.SupplementaryPurchaseData
	if len(tr.PaymentCaptures) > 0 || len(tr.PaymentRefunds) > 0 || spd != nil && (len(spd.Subscriptions) > 0 || spd.OndemandService != nil) {
		return b, false
	}
	b = append(b, `{"payment_transaction_response":{"result":`...)
	b = appendString(b, ptr.Result)
	b = appendNonEmpty(b, `,"result_reason":`, ptr.ResultReason)
	b = append(b, `,"payment_transaction":{"payment_transaction_id":`...)
	b = appendString(b, tr.PaymentTransactionID)
	b = appendNonEmpty(b, `,"payment_transaction_reference":`, tr.PaymentTransactionReference)
	b = append(b, `,"amount":`...)
	b = strconv.AppendInt(b, tr.Amount, 10)
	b = append(b, `,"currency":`...)
	b = appendString(b, tr.Currency)
	b = append(b, `,"state":`...)
	b = appendString(b, tr.State)
	b = append(b, `,"payment_funding":{"type":`...)
	b = appendString(b, tr.PaymentFunding.Type)
	b = append(b, `,"state":`...)
	b = appendString(b, tr.PaymentFunding.State)
	b = append(b, `},"created_at":`...)
	b, ok := appendTime(b, tr.CreatedAt)
	if !ok {
		return b, false
	}
	b = append(b, `,"expires_at":`...)
	if b, ok = appendTime(b, tr.ExpiresAt); !ok {
		return b, false
	}
	if spd != nil {
		b = append(b, `,"supplementary_purchase_data":`...)
		b = appendPurchaseData(b, spd)
	}
	return append(b, "}}}"...), true
}

// appendPurchaseData appends the purchase data a transaction keeps (purchaseData in package
// mockserver: no subscriptions or on-demand service).
func appendPurchaseData(b []byte, spd *mockserver.SupplementaryPurchaseData) []byte {
	o := object{b: append(b, '{')}
	o.str("purchase_reference", spd.PurchaseReference)
	if len(spd.LineItems) > 0 {
		o.list("line_items", len(spd.LineItems), func(b []byte, i int) []byte {
			li := &spd.LineItems[i]
			item := object{b: append(b, `{"name":`...)}
			item.b = appendString(item.b, li.Name)
			item.b = append(item.b, `,"quantity":`...)
			item.b = strconv.AppendInt(item.b, li.Quantity, 10)
			item.b = append(item.b, `,"total_amount":`...)
			item.b = strconv.AppendInt(item.b, li.TotalAmount, 10)
			item.fields = 1
			item.int("unit_price", li.UnitPrice)
			item.int("total_tax_amount", li.TotalTaxAmount)
			item.str("line_item_reference", li.LineItemReference)
			item.str("subscription_reference", li.SubscriptionReference)
			item.str("product_url", li.ProductURL)
			item.str("image_url", li.ImageURL)
			item.str("product_identifier", li.ProductIdentifier)
			item.str("shipping_reference", li.ShippingReference)
			return append(item.b, '}')
		})
	}
	if c := spd.Customer; c != nil {
		o.name("customer")
		o.b = appendPerson(o.b, [4][2]string{{"email", c.Email}, {"given_name", c.GivenName}, {"family_name", c.FamilyName}, {"phone", c.Phone}})
	}
	if len(spd.Shipping) > 0 {
		o.list("shipping", len(spd.Shipping), func(b []byte, i int) []byte {
			sh := &spd.Shipping[i]
			s := object{b: append(b, '{')}
			if r := sh.Recipient; r != nil {
				s.name("recipient")
				s.b = appendPerson(s.b, [4][2]string{{"given_name", r.GivenName}, {"family_name", r.FamilyName}, {"email", r.Email}, {"phone", r.Phone}})
			}
			if a := sh.Address; a != nil {
				s.name("address")
				ao := object{b: append(s.b, '{')}
				ao.str("street_address", a.StreetAddress)
				ao.str("street_address2", a.StreetAddress2)
				ao.str("postal_code", a.PostalCode)
				ao.str("city", a.City)
				ao.str("region", a.Region)
				ao.str("country", a.Country)
				s.b = append(ao.b, '}')
			}
			return append(s.b, '}')
		})
	}
	return append(o.b, '}')
}

// list adds the property name, an array of n elements each appended by elem.
func (o *object) list(name string, n int, elem func(b []byte, i int) []byte) {
	o.name(name)
	o.b = append(o.b, '[')
	for i := range n {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = elem(o.b, i)
	}
	o.b = append(o.b, ']')
}

// appendPerson appends an object of string properties, each left out when empty, in order.
func appendPerson(b []byte, props [4][2]string) []byte {
	o := object{b: append(b, '{')}
	for _, p := range props {
		o.str(p[0], p[1])
	}
	return append(o.b, '}')
}

// object appends an object's properties to b; fields counts those written so far, for the
// commas between them.
type object struct {
	b      []byte
	fields int
}

// name writes a property's name; its value follows. Names need no escaping: they are the json
// tags above.
func (o *object) name(name string) {
	if o.fields > 0 {
		o.b = append(o.b, ',')
	}
	o.fields++
	o.b = append(o.b, '"')
	o.b = append(o.b, name...)
	o.b = append(o.b, `":`...)
}

// str writes a string property, omitted when empty (omitempty).
func (o *object) str(name, v string) {
	if v != "" {
		o.name(name)
		o.b = appendString(o.b, v)
	}
}

// int writes an integer property, omitted when zero (omitempty).
func (o *object) int(name string, v int64) {
	if v != 0 {
		o.name(name)
		o.b = strconv.AppendInt(o.b, v, 10)
	}
}

// appendNonEmpty appends the name and the string v when v is not empty (omitempty).
func appendNonEmpty(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return appendString(append(b, name...), v)
}

// appendTime appends t as time.Time's MarshalJSON does, RFC 3339 with nanoseconds, quoted, and
// reports false for the times it refuses: a year outside 0 to 9999, a zone offset of 24 hours or
// more.
func appendTime(b []byte, t time.Time) ([]byte, bool) {
	n0 := len(b)
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	// The checks time.Time's MarshalJSON makes, on what it wrote (appendStrictRFC3339).
	if len(b) < n0+1+len("9999-") || b[n0+1+len("9999")] != '-' {
		return b, false
	}
	if b[len(b)-1] != 'Z' {
		c := b[len(b)-len("Z07:00")]
		if '0' <= c && c <= '9' || 10*(b[len(b)-5]-'0')+(b[len(b)-4]-'0') >= 24 {
			return b, false
		}
	}
	return append(b, '"'), true
}

// appendString appends s quoted as encoding/json does with HTML escaping, json.Marshal's
// default: <, > and & as \u003c, \u003e and \u0026, U+2028 and U+2029 escaped, each invalid
// UTF-8 byte as \ufffd, control characters as \b, \f, \n, \r, \t or \u00XX.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
