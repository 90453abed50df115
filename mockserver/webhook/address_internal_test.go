package webhook

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// TestControlRefusesResolvedAddresses calls the dialer's Control hook as the dialer does, with
// the address a connection is about to be made to: nothing is dialed.
func TestControlRefusesResolvedAddresses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		address string
		always  bool // refused with RefusePrivate off too
		public  bool // allowed with RefusePrivate on
	}{
		{"169.254.169.254:80", true, false},
		{"169.254.1.2:8080", true, false},
		{"[fe80::1]:80", true, false},
		{"[fe80::1%eth0]:80", true, false},
		{"[febf::1]:80", true, false},
		{"[fd00:ec2::254]:80", true, false},
		{"100.100.100.200:80", true, false},
		{"[::ffff:169.254.169.254]:80", true, false},
		{"nonsense", true, false},
		{"127.0.0.1:8080", false, false},
		{"127.1.2.3:8080", false, false},
		{"[::1]:8080", false, false},
		{"0.0.0.0:80", false, false},
		{"[::]:80", false, false},
		{"10.0.0.1:80", false, false},
		{"172.16.0.1:80", false, false},
		{"172.31.255.255:80", false, false},
		{"192.168.0.1:80", false, false},
		{"100.64.0.1:80", false, false},
		{"[fc00::1]:80", false, false},
		{"[fd12:3456::1]:80", false, false},
		{"[::ffff:10.0.0.1]:80", false, false},
		{"93.184.215.14:443", false, true},
		{"172.32.0.1:443", false, true},
		{"[2606:4700:4700::1111]:443", false, true},
	} {
		for _, refusePrivate := range []bool{false, true} {
			err := addrPolicy{refusePrivate: refusePrivate}.control("tcp", tc.address, nil)
			want := tc.always || (refusePrivate && !tc.public)
			if !want {
				require.NoError(t, err, "%s, refuse private %v", tc.address, refusePrivate)
				continue
			}
			var refused *refusedError
			require.True(t, errors.As(err, &refused), "%s, refuse private %v: %v", tc.address, refusePrivate, err)
			require.True(t, strings.HasPrefix(err.Error(), "refused: "), err.Error())
		}
	}
}

func TestExcerpt(t *testing.T) {
	t.Parallel()
	const limit = MaxResponseExcerpt
	a := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		name      string
		head      string
		want      string
		truncated bool
	}{
		{"empty", "", "", false},
		{"short", "busy", "busy", false},
		{"exactly full", a(limit), a(limit), false},
		{"one byte more", a(limit + 1), a(limit), true},
		{"a character across the cut", a(limit-1) + "é", a(limit - 1), true},
		{"invalid bytes replaced", "ok\xffok", "ok\uFFFDok", false},
		{"replacements grow past the limit", strings.Repeat("a\xff", limit/2), strings.Repeat("a\uFFFD", limit/4), true},
	} {
		got, truncated := excerpt([]byte(tc.head))
		require.LessOrEqual(t, len(got), limit, tc.name)
		require.True(t, utf8.ValidString(got), tc.name)
		require.Equal(t, tc.truncated, truncated, tc.name)
		require.Equal(t, tc.want, got, tc.name)
	}
}
