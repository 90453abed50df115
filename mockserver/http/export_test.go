package http

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// Routes lists every route the server mounts, in the order the router tries them, as method and
// path template, so that tests can walk them.
func (s *Server) Routes() ([][2]string, error) {
	var routes [][2]string
	err := s.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		method, path, ok := strings.Cut(route.GetName(), " ")
		if !ok {
			return fmt.Errorf("route %q is not named METHOD /path", route.GetName())
		}
		routes = append(routes, [2]string{method, path})
		return nil
	})
	return routes, err
}

// Match is the route the server's router picks for r, by name ("METHOD /path/{template}"), with
// its path variables; the name is empty when none does, and mismatch tells then a 405 from a
// 404.
func (s *Server) Match(r *http.Request) (name string, vars map[string]string, mismatch bool) {
	var m mux.RouteMatch
	s.router.Match(r, &m)
	if m.Route != nil && m.MatchErr == nil {
		name = m.Route.GetName()
	}
	return name, m.Vars, errors.Is(m.MatchErr, mux.ErrMethodMismatch)
}

// ServeThroughRouter serves r with the router's own ServeHTTP, which hands the path variables
// over in the request's context, rather than with the server's dispatch.
func (s *Server) ServeThroughRouter(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }
