package http

import (
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// decodeAuthorize decodes an authorize body into req without reflection, for the plain bodies
// clients send: an object of the documented properties, each once, spelled exactly, each value
// of its property's JSON type, strings without escapes, integers without fraction or exponent,
// no null. For such a body encoding/json's result is unambiguous, and this gives the same value
// (TestDecodeAuthorizeAsEncodingJSON and FuzzDecodeAuthorize compare the two). Anything else
// (an undocumented property, which encoding/json might match case-insensitively, a repeated
// one, which it merges, an escape, a null, a number it refuses) makes it report false, leaving
// req in an unspecified state: the caller then decodes with encoding/json, which also words
// any error. encoding/json costs about a seventh of an approved authorize's CPU, and scans the
// body twice (once to check it, once to decode it) after the contract check scanned it already.
//
// The request's request_payment_transaction and supplementary_purchase_data, which nearly every
// authorize sends, are decoded into room, which must be zero, rather than objects of their own.
func decodeAuthorize(body []byte, req *mockserver.AuthorizeRequest, room *authorizeRoom) bool {
	d := decoder{b: body, room: room}
	if !d.authorizeRequest(req) {
		return false
	}
	d.space()
	return d.i == len(d.b)
}

// decoder reads a JSON document from b, at i.
type decoder struct {
	b []byte
	i int
	// strs holds the bytes of the strings read, in chunks of strChunk bytes or of one longer
	// string: a body's strings in one allocation or a few rather than one each. A chunk is only
	// appended to, so the bytes of a string read never change.
	strs []byte
	// room is where the request's two most frequent objects go (decodeAuthorize).
	room *authorizeRoom
}

// authorizeBody is an authorize request with room for the two objects of its body nearly every
// call sends, so that decoding allocates the three together rather than one by one. Nothing keeps
// the two past the call, so neither keeps the others alive: a transaction copies what it keeps of
// them, the line items and customer being allocations of their own (newTransaction,
// purchaseData in mockserver), and a Payment Request keeps its initial request packed.
type authorizeBody struct {
	req  mockserver.AuthorizeRequest
	room authorizeRoom
}

// authorizeRoom is the room of an authorizeBody.
type authorizeRoom struct {
	rpt mockserver.PaymentTransactionRequest
	spd mockserver.SupplementaryPurchaseData
}

// strChunk is the size of decoder.strs' chunks: room for the strings of a typical authorize,
// and little left unused for the objects that keep them (a transaction keeps its references,
// its line items' names and its customer's email, and so the chunk they are in).
const strChunk = 64

func (d *decoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// next reports whether the next token is the byte c, and consumes it if so.
func (d *decoder) next(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// rawString reads a string without escapes or control characters, valid UTF-8, and returns its
// bytes, which encoding/json would keep as they are.
func (d *decoder) rawString() ([]byte, bool) {
	if !d.next('"') {
		return nil, false
	}
	ascii := true
	for j := d.i; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			s := d.b[d.i:j]
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			d.i = j + 1
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

func (d *decoder) str(dst *string) bool {
	s, ok := d.rawString()
	if ok {
		*dst = d.keep(s)
	}
	return ok
}

// word reads a string into dst as str does, except that one of words, the values the property
// mostly has, is kept as that constant rather than copied into strs, which then holds only what
// is the call's own: the strings of BenchmarkChargeBodyDecoding's body fit one chunk, not two.
func (d *decoder) word(dst *string, words ...string) bool {
	s, ok := d.rawString()
	if !ok {
		return false
	}
	for _, w := range words {
		if string(s) == w {
			*dst = w
			return true
		}
	}
	*dst = d.keep(s)
	return true
}

// currency reads a currency code, the commonest of Klarna's currencies as constants (word).
func (d *decoder) currency(dst *string) bool {
	return d.word(dst, "USD", "EUR", "GBP", "SEK", "NOK", "DKK", "CHF", "AUD", "CAD", "PLN")
}

// interval reads an interval, the contract's enum of them as constants (word).
func (d *decoder) interval(dst *string) bool { return d.word(dst, "DAY", "WEEK", "MONTH", "YEAR") }

// keep returns s as a string of its own, its bytes copied into strs.
func (d *decoder) keep(s []byte) string {
	if len(s) == 0 {
		return ""
	}
	if len(s) > cap(d.strs)-len(d.strs) {
		d.strs = make([]byte, 0, max(len(s), strChunk))
	}
	start := len(d.strs)
	d.strs = append(d.strs, s...)
	return unsafe.String(&d.strs[start], len(s))
}

// int reads an integer as JSON writes one, -?(0|[1-9][0-9]*), within int64; a fraction or an
// exponent, which encoding/json refuses for an int64 with its own message, is not one.
func (d *decoder) int(dst *int64) bool {
	d.space()
	neg := d.i < len(d.b) && d.b[d.i] == '-'
	if neg {
		d.i++
	}
	start := d.i
	var n uint64
	for ; d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9'; d.i++ {
		if n > (1<<63)/10 {
			return false
		}
		n = n*10 + uint64(d.b[d.i]-'0')
	}
	digits := d.i - start
	switch {
	case digits == 0, digits > 1 && d.b[start] == '0':
		return false
	case d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E'):
		return false
	case neg && n <= 1<<63:
		*dst = int64(-n) // n is at most 2^63, so -n wraps to the int64 it stands for
	case !neg && n < 1<<63:
		*dst = int64(n)
	default:
		return false
	}
	return true
}

// object reads an object, handing each property to field once its name and colon are read;
// field reads the value, or reports false for a name it does not take. seen holds a bit per
// property field has taken, by the index field returns, so that a repeated one is refused.
func (d *decoder) object(field func(name []byte) (index int, ok bool)) bool {
	if !d.next('{') {
		return false
	}
	if d.next('}') {
		return true
	}
	var seen uint64
	for {
		name, ok := d.rawString()
		if !ok || !d.next(':') {
			return false
		}
		index, ok := field(name)
		if !ok || seen&(1<<index) != 0 {
			return false
		}
		seen |= 1 << index
		if d.next('}') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

// array reads an array, calling elem for each element.
func (d *decoder) array(elem func() bool) bool {
	if !d.next('[') {
		return false
	}
	if d.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.next(']') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

// slice reads an array of objects into dst, each element by elem. Like encoding/json it leaves an
// empty array as an empty slice, not nil.
func slice[T any](d *decoder, dst *[]T, elem func(*T) bool) bool {
	s := make([]T, 0)
	ok := d.array(func() bool {
		s = append(s, *new(T))
		return elem(&s[len(s)-1])
	})
	*dst = s
	return ok
}

// ptr reads an object into a new T and sets dst to it.
func ptr[T any](dst **T, read func(*T) bool) bool { return into(dst, new(T), read) }

// into reads an object into v, which must be zero, and sets dst to it.
func into[T any](dst **T, v *T, read func(*T) bool) bool {
	*dst = v
	return read(v)
}

// Each reader below takes exactly the properties its type's json tags name; the index each
// returns is the property's place in its type, for object's check of repeated names.

func (d *decoder) authorizeRequest(r *mockserver.AuthorizeRequest) bool {
	return d.object(func(name []byte) (int, bool) {
		switch string(name) {
		case "currency":
			return 0, d.currency(&r.Currency)
		case "request_payment_transaction":
			return 1, into(&r.RequestPaymentTransaction, &d.room.rpt, d.paymentTransactionRequest)
		case "request_customer_token":
			return 2, ptr(&r.RequestCustomerToken, d.customerTokenRequest)
		case "step_up_config":
			return 3, ptr(&r.StepUpConfig, d.stepUpConfig)
		case "supplementary_purchase_data":
			return 4, into(&r.SupplementaryPurchaseData, &d.room.spd, d.supplementaryPurchaseData)
		case "klarna_network_data":
			return 5, d.str(&r.KlarnaNetworkData)
		case "interoperability_data":
			return 6, d.str(&r.InteroperabilityData)
		}
		return 0, false
	})
}

func (d *decoder) paymentTransactionRequest(r *mockserver.PaymentTransactionRequest) bool {
	return d.object(func(name []byte) (int, bool) {
		switch string(name) {
		case "amount":
			return 0, d.int(&r.Amount)
		case "payment_transaction_reference":
			return 1, d.str(&r.PaymentTransactionReference)
		case "payment_option_id":
			return 2, d.str(&r.PaymentOptionID)
		case "capture":
			return 3, d.word(&r.Capture, mockserver.CaptureNow, "LATER")
		}
		return 0, false
	})
}

func (d *decoder) customerTokenRequest(r *mockserver.CustomerTokenRequest) bool {
	return d.object(func(name []byte) (int, bool) {
		switch string(name) {
		case "scopes":
			return 0, slice(d, &r.Scopes, d.str)
		case "customer_token_reference":
			return 1, d.str(&r.CustomerTokenReference)
		}
		return 0, false
	})
}

func (d *decoder) stepUpConfig(c *mockserver.StepUpConfig) bool {
	return d.object(func(name []byte) (int, bool) {
		switch string(name) {
		case "payment_request_reference":
			return 0, d.str(&c.PaymentRequestReference)
		case "customer_interaction_config":
			return 1, d.customerInteractionConfig(&c.CustomerInteractionConfig)
		}
		return 0, false
	})
}

func (d *decoder) customerInteractionConfig(c *mockserver.CustomerInteractionConfig) bool {
	return d.object(func(name []byte) (int, bool) {
		switch string(name) {
		case "method":
			return 0, d.str(&c.Method)
		case "return_url":
			return 1, d.str(&c.ReturnURL)
		case "app_return_url":
			return 2, d.str(&c.AppReturnURL)
		case "interaction_expiry":
			return 3, ptr(&c.InteractionExpiry, d.interactionExpiry)
		}
		return 0, false
	})
}

func (d *decoder) interactionExpiry(e *mockserver.InteractionExpiry) bool {
	return d.object(func(name []byte) (int, bool) {
		switch string(name) {
		case "duration":
			return 0, d.str(&e.Duration)
		case "timestamp":
			return 1, ptr(&e.Timestamp, d.time)
		}
		return 0, false
	})
}

// time reads a timestamp as encoding/json does, by time.Time's UnmarshalJSON of the literal
// with its quotes; one it refuses is left to encoding/json, for its error.
func (d *decoder) time(t *time.Time) bool {
	start := d.i
	if _, ok := d.rawString(); !ok {
		return false
	}
	return t.UnmarshalJSON(d.b[start:d.i]) == nil
}

func (d *decoder) supplementaryPurchaseData(p *mockserver.SupplementaryPurchaseData) bool {
	return d.object(func(name []byte) (int, bool) {
		switch string(name) {
		case "purchase_reference":
			return 0, d.str(&p.PurchaseReference)
		case "line_items":
			return 1, slice(d, &p.LineItems, d.lineItem)
		case "customer":
			return 2, ptr(&p.Customer, d.customer)
		case "shipping":
			return 3, slice(d, &p.Shipping, d.shipping)
		case "subscriptions":
			return 4, slice(d, &p.Subscriptions, d.subscription)
		case "ondemand_service":
			return 5, ptr(&p.OndemandService, d.ondemandService)
		}
		return 0, false
	})
}

func (d *decoder) lineItem(li *mockserver.LineItem) bool {
	return d.object(func(name []byte) (int, bool) {
		switch string(name) {
		case "name":
			return 0, d.str(&li.Name)
		case "quantity":
			return 1, d.int(&li.Quantity)
		case "total_amount":
			return 2, d.int(&li.TotalAmount)
		case "unit_price":
			return 3, d.int(&li.UnitPrice)
		case "total_tax_amount":
			return 4, d.int(&li.TotalTaxAmount)
		case "line_item_reference":
			return 5, d.str(&li.LineItemReference)
		case "subscription_reference":
			return 6, d.str(&li.SubscriptionReference)
		case "product_url":
			return 7, d.str(&li.ProductURL)
		case "image_url":
			return 8, d.str(&li.ImageURL)
		case "product_identifier":
			return 9, d.str(&li.ProductIdentifier)
		case "shipping_reference":
			return 10, d.str(&li.ShippingReference)
		}
		return 0, false
	})
}

func (d *decoder) customer(c *mockserver.Customer) bool {
	return d.object(func(name []byte) (int, bool) {
		switch string(name) {
		case "email":
			return 0, d.str(&c.Email)
		case "given_name":
			return 1, d.str(&c.GivenName)
		case "family_name":
			return 2, d.str(&c.FamilyName)
		case "phone":
			return 3, d.str(&c.Phone)
		}
		return 0, false
	})
}

func (d *decoder) shipping(s *mockserver.Shipping) bool {
	return d.object(func(name []byte) (int, bool) {
		switch string(name) {
		case "recipient":
			return 0, ptr(&s.Recipient, d.recipient)
		case "address":
			return 1, ptr(&s.Address, d.address)
		}
		return 0, false
	})
}

func (d *decoder) recipient(r *mockserver.Recipient) bool {
	return d.object(func(name []byte) (int, bool) {
		switch string(name) {
		case "given_name":
			return 0, d.str(&r.GivenName)
		case "family_name":
			return 1, d.str(&r.FamilyName)
		case "email":
			return 2, d.str(&r.Email)
		case "phone":
			return 3, d.str(&r.Phone)
		}
		return 0, false
	})
}

func (d *decoder) address(a *mockserver.Address) bool {
	return d.object(func(name []byte) (int, bool) {
		switch string(name) {
		case "street_address":
			return 0, d.str(&a.StreetAddress)
		case "street_address2":
			return 1, d.str(&a.StreetAddress2)
		case "postal_code":
			return 2, d.str(&a.PostalCode)
		case "city":
			return 3, d.str(&a.City)
		case "region":
			return 4, d.str(&a.Region)
		case "country":
			return 5, d.str(&a.Country)
		}
		return 0, false
	})
}

func (d *decoder) subscription(s *mockserver.Subscription) bool {
	return d.object(func(name []byte) (int, bool) {
		switch string(name) {
		case "subscription_reference":
			return 0, d.str(&s.SubscriptionReference)
		case "name":
			return 1, d.str(&s.Name)
		case "free_trial":
			return 2, d.str(&s.FreeTrial)
		case "billing_plans":
			return 3, slice(d, &s.BillingPlans, d.billingPlan)
		}
		return 0, false
	})
}

func (d *decoder) billingPlan(p *mockserver.BillingPlan) bool {
	return d.object(func(name []byte) (int, bool) {
		switch string(name) {
		case "billing_amount":
			return 0, d.int(&p.BillingAmount)
		case "currency":
			return 1, d.currency(&p.Currency)
		case "from":
			return 2, d.str(&p.From)
		case "interval":
			return 3, d.interval(&p.Interval)
		case "interval_frequency":
			return 4, d.int(&p.IntervalFrequency)
		}
		return 0, false
	})
}

func (d *decoder) ondemandService(o *mockserver.OndemandService) bool {
	return d.object(func(name []byte) (int, bool) {
		switch string(name) {
		case "average_amount":
			return 0, d.int(&o.AverageAmount)
		case "minimum_amount":
			return 1, d.int(&o.MinimumAmount)
		case "maximum_amount":
			return 2, d.int(&o.MaximumAmount)
		case "purchase_interval":
			return 3, d.interval(&o.PurchaseInterval)
		case "purchase_interval_frequency":
			return 4, d.int(&o.PurchaseIntervalFrequency)
		}
		return 0, false
	})
}
