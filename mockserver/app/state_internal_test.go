package app

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// filler sets every exported field of a value, nested ones included, to a value of its own, so
// that a field the state document forgets shows as a difference.
type filler struct{ n int }

func (f *filler) fill(v reflect.Value) {
	f.n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("v%d", f.n))
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.n))
	case reflect.Uint8:
		v.SetUint(uint64(f.n))
	case reflect.Float64:
		v.SetFloat(float64(f.n) / 100)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Array:
		for i := range v.Len() {
			f.fill(v.Index(i))
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		f.fill(v.Index(0))
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		f.fill(k)
		f.fill(e)
		v.SetMapIndex(k, e)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.fill(v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(int64(1_700_000_000+f.n), 0).UTC()))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i))
			}
		}
	}
}

// filled returns a T with every exported field set.
func filled[T any](f *filler) *T {
	v := new(T)
	f.fill(reflect.ValueOf(v).Elem())
	return v
}

// TestStateDocumentKeepsEveryField fills every field of each stored type, exports the objects
// into a document, sends it through JSON and imports it again: what comes back must equal what
// went in, so a field added to a stored type and forgotten by the document fails here.
func TestStateDocumentKeepsEveryField(t *testing.T) {
	t.Parallel()
	const tenant = "tenant"
	scope := mockserver.Scope(tenant, "account")
	now := time.Unix(1_600_000_000, 0).UTC()
	f := &filler{}

	pr := filled[mockserver.PaymentRequest](f)
	pr.AccountID = scope
	pr.SetInitialRequest(filled[mockserver.AuthorizeRequest](f))
	pr.IssuedToken.AccountID = scope
	tr := filled[mockserver.PaymentTransaction](f)
	tr.AccountID = scope
	ct := filled[mockserver.CustomerToken](f)
	ct.AccountID = scope
	ns := filled[mockserver.NetworkSession](f)
	ns.AccountID = scope
	rec := filled[mockserver.IdempotencyRecord](f)
	rec.Scope, rec.Tenant, rec.ExpiresAt = tenant+" POST /v2/path", tenant, now.Add(time.Hour).UnixNano()
	key := filled[webhook.SigningKey](f)
	key.AccountID, key.SigningKey = tenant, ""
	hook := filled[webhook.Webhook](f)
	hook.AccountID = tenant
	d := filled[webhook.Delivery](f)
	d.AccountID, d.Body = tenant, []byte(`{"metadata":{}}`)

	doc := &stateDocument{Format: StateFormat, Clock: clockDoc{Now: now}, Webhooks: []*webhook.Webhook{hook}}
	for _, o := range []mockserver.Retained{pr, tr, ct, ns, rec} {
		require.NoError(t, doc.add(tenant, o, now))
	}
	doc.SigningKeys = []signingKeyDoc{{SigningKey: key, Secret: key.Secret}}
	doc.Deliveries = []deliveryDoc{{Delivery: d, Body: d.Body}}
	raw, err := json.Marshal(doc)
	require.NoError(t, err)
	back, err := decodeState(raw)
	require.NoError(t, err)

	c := &checker{mayUse: func(string) bool { return true }, checkHook: func(*webhook.Webhook) []mockserver.FieldError { return nil }}
	st := &importedState{}
	seen := map[string]bool{}
	require.Equal(t, pr, c.request("pr", tenant, back.PaymentRequests[0], seen))
	require.Equal(t, tr, c.transaction("tr", tenant, back.PaymentTransactions[0], seen))
	require.Equal(t, ct, c.token("ct", tenant, back.CustomerTokens[0], seen))
	require.Equal(t, rec, c.idempotency("rec", tenant, back.IdempotencyRecords[0], seen))
	c.webhookState(tenant, back, st)
	require.Equal(t, []*webhook.SigningKey{key}, st.keys)
	require.Equal(t, []*webhook.Webhook{hook}, st.webhooks)
	require.Equal(t, []*webhook.Delivery{d}, st.deliveries)
	require.Equal(t, ns, c.session("ns", tenant, back.NetworkSessions[0], seen))
}
