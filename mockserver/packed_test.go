package mockserver

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fill sets every field of v, recursively, to a value that is not the zero one and differs from
// field to field, so that a round trip that drops, swaps or truncates any field fails. Slices get
// two elements; the first slice of a struct type is left empty but not nil, to tell the two apart.
func fill(t *testing.T, v reflect.Value, n *int) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString("value-" + string(rune('A'+*n%26)) + "-é")
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n) * -1_000_003)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(t, v.Index(i), n)
		}
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 1, 10, 0, *n, 123, time.FixedZone("", 3600))))
			return
		}
		for i := range v.NumField() {
			fill(t, v.Field(i), n)
		}
	default:
		t.Fatalf("fill does not know %s", v.Type())
	}
}

// TestPackRoundTrip checks that every field of an authorize body survives packing, whatever
// fields the types gain: fill reaches them all by reflection, and pack panics on a kind it does
// not support.
func TestPackRoundTrip(t *testing.T) {
	t.Parallel()
	var req AuthorizeRequest
	n := 0
	fill(t, reflect.ValueOf(&req).Elem(), &n)
	req.SupplementaryPurchaseData.Subscriptions[1].BillingPlans = []BillingPlan{}
	req.SupplementaryPurchaseData.Shipping[0].Address = nil
	packed := packValue(&req)
	got, err := unpackValue[AuthorizeRequest](packed)
	require.NoError(t, err)
	require.Equal(t, &req, got)
	require.NotNil(t, got.SupplementaryPurchaseData.Subscriptions[1].BillingPlans, "an empty slice stays empty, not nil")

	for cut := range len(packed) {
		_, err := unpackValue[AuthorizeRequest](packed[:cut])
		require.Error(t, err, "cut at %d of %d", cut, len(packed))
	}
	_, err = unpackValue[AuthorizeRequest](append(packed, 0))
	require.Error(t, err, "trailing bytes")
}

// TestInitialRequest checks what a Payment Request keeps of its initial authorize: everything but
// the step_up_config, independent of the value it was set from and of what a reader does with it.
func TestInitialRequest(t *testing.T) {
	t.Parallel()
	require.Equal(t, &AuthorizeRequest{}, (&PaymentRequest{}).InitialRequest(), "a request never given one")

	req := &AuthorizeRequest{
		Currency:                  "EUR",
		RequestPaymentTransaction: &PaymentTransactionRequest{Amount: 11800, PaymentTransactionReference: "tx-1"},
		StepUpConfig:              &StepUpConfig{PaymentRequestReference: "pr-1", CustomerInteractionConfig: CustomerInteractionConfig{Method: MethodHandover}},
		SupplementaryPurchaseData: &SupplementaryPurchaseData{LineItems: []LineItem{{Name: "Shoes", Quantity: 1, TotalAmount: 11800}}},
	}
	pr := &PaymentRequest{}
	pr.SetInitialRequest(req)
	require.NotNil(t, req.StepUpConfig, "the caller's value is left as it was")
	req.RequestPaymentTransaction.Amount = 1

	got := pr.InitialRequest()
	require.Nil(t, got.StepUpConfig)
	require.Equal(t, int64(11800), got.RequestPaymentTransaction.Amount)
	require.Equal(t, "Shoes", got.SupplementaryPurchaseData.LineItems[0].Name)
	got.SupplementaryPurchaseData.LineItems[0].Name = "changed"
	require.Equal(t, "Shoes", pr.InitialRequest().SupplementaryPurchaseData.LineItems[0].Name, "each read is a fresh copy")
	require.Same(t, &pr.initial[0], &pr.Clone().initial[0], "a clone shares the packed bytes")
}
