package mockserver

import (
	"errors"
	"strconv"
	"time"
)

// ParseISODuration parses the ISO 8601 durations interaction_expiry takes, such as PT15M, PT3H,
// P1DT12H or PT1H30M10S. Years and months have no fixed length and are refused.
func ParseISODuration(s string) (time.Duration, error) {
	bad := errors.New("not an ISO 8601 duration such as PT15M or PT3H: " + strconv.Quote(s))
	if len(s) < 3 || s[0] != 'P' {
		return 0, bad
	}
	var total time.Duration
	inTime, seen := false, false
	num := ""
	for _, c := range s[1:] {
		switch {
		case c >= '0' && c <= '9':
			num += string(c)
			continue
		case c == 'T':
			if inTime || num != "" {
				return 0, bad
			}
			inTime = true
			continue
		}
		if num == "" {
			return 0, bad
		}
		n, err := strconv.ParseInt(num, 10, 32)
		if err != nil {
			return 0, bad
		}
		var unit time.Duration
		switch {
		case !inTime && c == 'D':
			unit = 24 * time.Hour
		case !inTime && c == 'W':
			unit = 7 * 24 * time.Hour
		case inTime && c == 'H':
			unit = time.Hour
		case inTime && c == 'M':
			unit = time.Minute
		case inTime && c == 'S':
			unit = time.Second
		default:
			return 0, bad
		}
		total += time.Duration(n) * unit
		num, seen = "", true
	}
	if num != "" || !seen {
		return 0, bad
	}
	return total, nil
}
