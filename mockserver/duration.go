package mockserver

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// errDurationTooLong is wrapped by ParseISODuration's error for a duration longer than a
// time.Duration holds, so callers with a tighter range can report that range instead.
var errDurationTooLong = errors.New("longer than the mock can represent (about 292 years)")

// ParseISODuration parses the ISO 8601 durations interaction_expiry takes, such as PT15M, PT3H,
// P1DT12H or PT1H30M10S. Years and months have no fixed length and are refused, and so is a
// duration longer than a time.Duration holds (about 292 years): without that check P213504D
// wrapped around to 25 minutes.
func ParseISODuration(s string) (time.Duration, error) {
	bad := errors.New("not an ISO 8601 duration such as PT15M or PT3H: " + strconv.Quote(s))
	tooLong := fmt.Errorf("the duration %q is %w", s, errDurationTooLong)
	if len(s) < 3 || s[0] != 'P' {
		return 0, bad
	}
	var total time.Duration
	// inTime: after the T; seen: a component was read since the P or the T.
	inTime, seen := false, false
	start := 1 // where the number before the next designator starts
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			continue
		case c == 'T':
			if inTime || i > start {
				return 0, bad
			}
			inTime, seen = true, false
			start = i + 1
			continue
		}
		if i == start {
			return 0, bad
		}
		n, err := strconv.ParseInt(s[start:i], 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			return 0, tooLong
		}
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
		// n and total are not negative, so these bounds keep n*unit and the sum within int64.
		if n > int64(math.MaxInt64/unit) || time.Duration(n)*unit > math.MaxInt64-total {
			return 0, tooLong
		}
		total += time.Duration(n) * unit
		start, seen = i+1, true
	}
	if start < len(s) || !seen {
		return 0, bad
	}
	return total, nil
}
