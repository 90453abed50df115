package mockserver

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMinorUnits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		currency string
		want     int
	}{
		{"USD", 2}, {"EUR", 2}, {"SEK", 2}, {"HUF", 2}, {"usd", 2},
		{"JPY", 0}, {"KRW", 0}, {"ISK", 0}, {"CLP", 0}, {"VND", 0}, {"jpy", 0},
		{"KWD", 3}, {"BHD", 3}, {"JOD", 3}, {"OMR", 3}, {"TND", 3}, {"IQD", 3}, {"LYD", 3},
		{"XYZ", 2},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, MinorUnits(tt.currency), tt.currency)
	}
}

func TestFormatAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		minor    int64
		currency string
		amount   string
		money    string
	}{
		{11800, "USD", "118.00", "118.00 USD"},
		{11836, "usd", "118.36", "118.36 USD"},
		{5, "EUR", "0.05", "0.05 EUR"},
		{0, "EUR", "0.00", "0.00 EUR"},
		{-150, "EUR", "-1.50", "-1.50 EUR"},
		{-5, "GBP", "-0.05", "-0.05 GBP"},
		{1000, "JPY", "1000", "1000 JPY"},
		{-1000, "JPY", "-1000", "-1000 JPY"},
		{1234, "KWD", "1.234", "1.234 KWD"},
		{-7, "BHD", "-0.007", "-0.007 BHD"},
		{math.MinInt64, "JPY", "-9223372036854775808", "-9223372036854775808 JPY"},
		{math.MaxInt64, "USD", "92233720368547758.07", "92233720368547758.07 USD"},
	}
	for _, tt := range tests {
		t.Run(tt.money, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.amount, FormatAmount(tt.minor, tt.currency))
			require.Equal(t, tt.money, FormatMoney(tt.minor, tt.currency))
		})
	}
}
