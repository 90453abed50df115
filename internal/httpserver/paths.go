package httpserver

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// CanonicalPaths returns router as a handler that answers a request whose path is not in
// canonical form, one with an empty, "." or ".." segment such as //v2/..., /a/../b or
// /a/%2e%2e/b, with the router's NotFoundHandler, whatever its method, so that the client gets
// the service's own 404. It turns the router's path cleaning off: gorilla/mux would answer such
// a path with a 301 and an empty body, which no API client follows usefully. Cleaning off alone
// would not do: a "." or ".." segment matches a path variable, and
// /v2/accounts/%2e%2e/payment/authorize would authorize on an account named "..".
//
// The router keeps matching the decoded path (no UseEncodedPath), so an id sent
// percent-encoded, as krn%3Apartner%3A..., still reaches its route.
func CanonicalPaths(router *mux.Router) http.Handler {
	router.SkipClean(true)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !CanonicalPath(r.URL.Path) {
			if nf := router.NotFoundHandler; nf != nil {
				nf.ServeHTTP(w, r)
			} else {
				http.NotFound(w, r)
			}
			return
		}
		router.ServeHTTP(w, r)
	})
}

// CanonicalPath reports whether p is a path gorilla/mux's cleaning leaves as it is: rooted, with
// no empty, "." or ".." segment, a trailing slash allowed. CanonicalPaths answers the others with
// the router's NotFoundHandler; a service matching routes itself does the same with it. It
// answers as path.Clean(p) == p does, a trailing slash aside (TestCanonicalPathAsClean), at a
// fifth of its cost: it checks each segment as strings.IndexByte finds its end, on every request.
func CanonicalPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for rest := p[1:]; ; {
		end := strings.IndexByte(rest, '/')
		if end < 0 {
			// The last segment, empty after a trailing slash and for "/" itself.
			return rest != "." && rest != ".."
		}
		if seg := rest[:end]; seg == "" || seg == "." || seg == ".." {
			return false
		}
		rest = rest[end+1:]
	}
}
