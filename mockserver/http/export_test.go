package http

import "github.com/gorilla/mux"

// Router is the server's router, so routes_test.go can walk every route the server mounts.
func (s *Server) Router() *mux.Router { return s.router }
