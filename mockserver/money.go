package mockserver

import (
	"fmt"
	"strings"
)

// MinorUnits is how many digits of minor units a currency has (ISO 4217): amounts in the API are
// in minor units, so 11800 is 118.00 USD but 11800 JPY. Currencies not listed have two.
func MinorUnits(currency string) int {
	switch strings.ToUpper(currency) {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}

// FormatAmount renders an amount in minor units as a decimal number with the currency's minor
// units: 11800 USD is "118.00", 1000 JPY is "1000", 1234 KWD is "1.234", -150 EUR is "-1.50".
func FormatAmount(minor int64, currency string) string {
	sign := ""
	// The magnitude as unsigned, so the most negative int64 has one too.
	abs := uint64(minor)
	if minor < 0 {
		sign, abs = "-", -abs
	}
	digits := MinorUnits(currency)
	if digits == 0 {
		return fmt.Sprintf("%s%d", sign, abs)
	}
	pow := uint64(1)
	for range digits {
		pow *= 10
	}
	return fmt.Sprintf("%s%d.%0*d", sign, abs/pow, digits, abs%pow)
}

// FormatMoney renders an amount in minor units followed by its currency code, as the Purchase
// Journey and the payment presentation show amounts to the customer: 11800 USD is "118.00 USD".
func FormatMoney(minor int64, currency string) string {
	return FormatAmount(minor, currency) + " " + strings.ToUpper(currency)
}
