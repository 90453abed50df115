package httpserver

import (
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// cleanAsMux is what CanonicalPath answers by definition: p is rooted and path.Clean, which
// gorilla/mux cleans paths with, leaves it as it is, a trailing slash kept.
func cleanAsMux(p string) bool {
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return strings.HasPrefix(p, "/") && clean == p
}

// TestCanonicalPathAsClean checks CanonicalPath against its definition on every string of up to
// seven of the bytes that matter to it ("/", "." and one other), and on paths the mock serves.
func TestCanonicalPathAsClean(t *testing.T) {
	t.Parallel()
	var walk func(p string)
	walk = func(p string) {
		require.Equal(t, cleanAsMux(p), CanonicalPath(p), "%q", p)
		if len(p) < 7 {
			for _, c := range []string{"/", ".", "a"} {
				walk(p + c)
			}
		}
	}
	walk("")
	for _, p := range []string{"/v2/accounts/krn:partner:global:account:test:BENCH001/payment/authorize",
		"/mock/v1/accounts/a%2Fb/journal", "/v2/accounts/../payment/authorize", "/.well-known/x", "/a/..b/c."} {
		require.Equal(t, cleanAsMux(p), CanonicalPath(p), "%q", p)
	}
}

// FuzzCanonicalPath checks CanonicalPath against its definition on any string.
func FuzzCanonicalPath(f *testing.F) {
	f.Add("/v2/accounts/a/payment/authorize")
	f.Add("/a//b/./c/../")
	f.Fuzz(func(t *testing.T, p string) {
		require.Equal(t, cleanAsMux(p), CanonicalPath(p), "%q", p)
	})
}

// BenchmarkCanonicalPath is the check of an authorize's path, made on every request.
func BenchmarkCanonicalPath(b *testing.B) {
	const p = "/v2/accounts/krn:partner:global:account:test:BENCH001/payment/authorize"
	b.ReportAllocs()
	for b.Loop() {
		if !CanonicalPath(p) {
			b.Fatal(p)
		}
	}
}
