package mockserver_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

func TestParseISODuration(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"PT15M":      15 * time.Minute,
		"PT3H":       3 * time.Hour,
		"P1DT12H":    36 * time.Hour,
		"PT1H30M10S": time.Hour + 30*time.Minute + 10*time.Second,
		"P2W":        14 * day,
		"P0D":        0,
		// The largest whole number of hours a time.Duration holds.
		"PT2562047H": 2562047 * time.Hour,
	} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			got, err := mockserver.ParseISODuration(in)
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}
}

// TestParseISODurationRefuses checks malformed durations and, for every unit, values a
// time.Duration cannot hold: each is refused, never wrapped around to a short duration (P213504D
// used to come out as about 25 minutes).
func TestParseISODurationRefuses(t *testing.T) {
	t.Parallel()
	for in, msg := range map[string]string{
		"":         "not an ISO 8601 duration",
		"15M":      "not an ISO 8601 duration",
		"P":        "not an ISO 8601 duration",
		"PT":       "not an ISO 8601 duration",
		"P1DT":     "not an ISO 8601 duration",
		"P1Y":      "not an ISO 8601 duration",
		"P1M":      "not an ISO 8601 duration",
		"PT1D":     "not an ISO 8601 duration",
		"P1H":      "not an ISO 8601 duration",
		"PT1H2":    "not an ISO 8601 duration",
		"PTT1H":    "not an ISO 8601 duration",
		"PT-1H":    "not an ISO 8601 duration",
		"PT1.5S":   "not an ISO 8601 duration",
		"P1DT1HT1": "not an ISO 8601 duration",

		"P213504D":                  "longer than the mock can represent",
		"P106752D":                  "longer than the mock can represent", // one day more than a Duration holds
		"P15251W":                   "longer than the mock can represent",
		"PT2562048H":                "longer than the mock can represent",
		"PT153722868M":              "longer than the mock can represent",
		"PT9223372037S":             "longer than the mock can represent",
		"PT9223372036854775807S":    "longer than the mock can represent",
		"PT99999999999999999999S":   "longer than the mock can represent", // more than an int64 holds
		"P99999999999999999999999D": "longer than the mock can represent",
		// Each part fits, the sum does not.
		"P106751DT24H":     "longer than the mock can represent",
		"PT2562047H60M":    "longer than the mock can represent",
		"P53376DT1281024H": "longer than the mock can represent",
	} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			d, err := mockserver.ParseISODuration(in)
			require.ErrorContains(t, err, msg, "parsed as %s", d)
		})
	}
}
