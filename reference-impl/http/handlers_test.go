package http

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
)

func TestNetworkFieldsTakeEveryName(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		in   networkFields
		want acquirer.Network
		bad  string
	}{
		"current names": {in: networkFields{KlarnaNetworkSessionToken: "t", KlarnaNetworkData: "d"}, want: acquirer.Network{SessionToken: "t", Data: "d"}},
		"older names":   {in: networkFields{InteroperabilityToken: "t", InteroperabilityData: "d"}, want: acquirer.Network{SessionToken: "t", Data: "d"}},
		"klarna_ older": {in: networkFields{KlarnaInteroperabilityToken: "t", KlarnaInteroperabilityData: "d"}, want: acquirer.Network{SessionToken: "t", Data: "d"}},
		"same value twice": {in: networkFields{KlarnaNetworkSessionToken: "t", InteroperabilityToken: "t"},
			want: acquirer.Network{SessionToken: "t"}},
		"none":            {},
		"different token": {in: networkFields{KlarnaNetworkSessionToken: "t", KlarnaInteroperabilityToken: "u"}, bad: "klarna_interoperability_token"},
		"different data":  {in: networkFields{KlarnaNetworkData: "d", InteroperabilityData: "e"}, bad: "interoperability_data"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.in.network()
			if tc.bad != "" {
				e := acquirer.AsError(err)
				require.Equal(t, acquirer.CodeInvalidRequest, e.Code)
				require.Equal(t, tc.bad, e.Fields[0].Parameter)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
