package rules

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestContainsFold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s, sub string
		want   bool
	}{
		{"john+denied@example.com", "+denied@", true},
		{"JOHN+DENIED@EXAMPLE.COM", "+Denied@", true},
		{"john+denie@example.com", "+denied@", false},
		{"abc", "abcd", false},
		{"", "a", false},
		{"xDECLINE", "decline", true},
		{"declin", "decline", false},
		{"aaab", "aab", true},
		{"[{@`", "[{@`", true},
		{"@", "`", false}, // '@' and '`' differ by the case bit but are not letters
		{"Grüne ÄPFEL", "äpfel", true},
		{"Grüne Apfel", "äpfel", false},
		{"straße-42", "E-4", true},
		{"straße-42", "sse", false}, // no Unicode case folding of ß for an ASCII needle
	}
	for _, tt := range tests {
		t.Run(tt.s+"/"+tt.sub, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, containsFold(tt.s, newNeedle(tt.sub)))
		})
	}
}

func TestEqualFoldASCII(t *testing.T) {
	t.Parallel()
	require.True(t, equalFoldASCII("usd", "USD"))
	require.True(t, equalFoldASCII("UsD", "USD"))
	require.False(t, equalFoldASCII("usx", "USD"))
	require.True(t, matchCurrency([]string{"EUR", "USD"}, "usd"))
	require.False(t, matchCurrency([]string{"USD"}, "US"))
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	require.Equal(t, ` (did you mean "email_contains"?)`, suggest("emial_contains", whenKeys))
	require.Equal(t, ` (did you mean "email"?)`, suggest("emails", whenKeys))
	require.Equal(t, "", suggest("zzzzzzzz", whenKeys))
}
