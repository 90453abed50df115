// Package dashboard serves the mock's dashboard at /dashboard: a tenant signs in with its API key
// and sees, and drives, its own sandbox in the browser: the journal of what it sent, its Payment
// Requests with the journey actions, transactions, customer tokens, webhooks and their
// deliveries, its clock, rules and faults, with live updates over server-sent events. Pages are
// rendered with html/template from embedded templates; the styles and the one script are
// embedded static files, so the dashboard needs nothing from elsewhere and its
// Content-Security-Policy allows nothing but itself.
package dashboard

import (
	"bytes"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/faults"
	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// Path is where the dashboard is served.
const Path = "/dashboard"

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Deps are what the dashboard shows and acts through: the same service, notifier and
// authentication as the API, so that a page shows what the API would answer and an action does
// what the control API does.
type Deps struct {
	Service *mockserver.Service
	// Store is the store the service runs on, read for the tenant's objects (Tx.Objects).
	Store mockserver.Store
	// Server authenticates (Server.Authenticate) and keeps the journal (Server.Journal).
	Server *mockhttp.Server
	// Notifier holds the webhooks and deliveries; nil leaves the webhooks page empty.
	Notifier *webhook.Notifier
	// Hub sends the live updates; the caller wires its observers into the store, the notifier
	// and the server (Hub.ObserveStore, Hub.ObserveNotifications, Hub.Journaled).
	Hub *Hub
	// Faults holds the tenants' faults; nil leaves the faults page empty.
	Faults *faults.Registry
	Logger *slog.Logger
}

// Dashboard is the dashboard's http.Handler.
type Dashboard struct {
	Deps
	mux *http.ServeMux
	// pages returns the templates, one per page, parsed when the first page is rendered rather
	// than in New: parsing them is most of what building the dashboard costs, and the mock's
	// first answer, which is rarely a dashboard page, should not wait for it. TestTemplatesParse
	// parses them all, so that a broken template fails the tests rather than a user's page.
	pages func() (map[string]*template.Template, error)
	// secret keys the CSRF tokens; it is made at start, so a restart signs every form anew.
	secret []byte
}

// New builds the dashboard; its templates are parsed once, on the first page it renders.
func New(d Deps) (*Dashboard, error) {
	if d.Service == nil || d.Store == nil || d.Server == nil || d.Hub == nil {
		return nil, errors.New("dashboard: Service, Store, Server and Hub are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	db := &Dashboard{Deps: d, mux: http.NewServeMux(), pages: sync.OnceValues(parsePages), secret: make([]byte, 32)}
	_, _ = rand.Read(db.secret) // crypto/rand.Read never fails
	db.routes()
	return db, nil
}

// parsePages compiles one template per page, by page name: the layout with the page's own
// "content".
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		page := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if page == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, name)
		if err != nil {
			return nil, fmt.Errorf("dashboard template %s: %w", name, err)
		}
		pages[page] = t
	}
	return pages, nil
}

// ServeHTTP serves a dashboard request.
func (db *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secure(w.Header())
	db.mux.ServeHTTP(w, r)
}

// Close ends the live update streams, for a server about to shut down: it waits for open
// requests, and a stream would otherwise keep it waiting.
func (db *Dashboard) Close() { db.Hub.Close() }

// secure sets the headers every answer carries. The policy allows the dashboard's own styles,
// script and event stream and nothing else: no inline script or style, no other origin, no
// framing; forms post only to the dashboard.
func secure(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: under no-referrer a browser sends "Origin: null" with a
	// form, and sameOrigin could no longer tell the dashboard's own forms from others'.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
}

// routes mounts every page and action; each action is a POST with the form's CSRF token.
func (db *Dashboard) routes() {
	m := db.mux
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Path, http.StatusFound)
	})
	static, _ := fs.Sub(staticFiles, "static") // the directory is embedded, so Sub cannot fail
	files := http.StripPrefix(Path+"/static/", http.FileServerFS(static))
	m.HandleFunc("GET "+Path+"/static/{file}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
	m.HandleFunc("GET "+Path+"/sign-in", db.signInPage)
	m.HandleFunc("POST "+Path+"/sign-in", db.signIn)
	m.HandleFunc("POST "+Path+"/sign-out", db.signOut)
	m.HandleFunc("GET "+Path+"/events", db.events)

	pages := map[string]view{
		"":                       db.overview,
		"/journal":               db.journal,
		"/payment-requests":      db.paymentRequests,
		"/payment-requests/{id}": db.paymentRequest,
		"/transactions":          db.transactions,
		"/transactions/{id}":     db.transaction,
		"/tokens":                db.tokens,
		"/webhooks":              db.webhooks,
		"/webhooks/{id}":         db.webhookPage,
		"/clock":                 db.clockPage,
		"/rules":                 db.rulesPage,
		"/faults":                db.faultsPage,
		"/faults/{id}":           db.faultPage,
	}
	for path, v := range pages {
		m.Handle("GET "+Path+path, db.signedIn(v))
	}
	actions := map[string]view{
		"/payment-requests/{id}/{action}": db.actOnRequest,
		"/tokens/{id}/revoke":             db.revokeToken,
		"/deliveries/{id}/redeliver":      db.redeliver,
		"/deliveries/pause":               db.pauseDeliveries,
		"/deliveries/resume":              db.resumeDeliveries,
		"/clock":                          db.advanceClock,
		"/rules":                          db.setRules,
		"/rules/delete":                   db.deleteRules,
		"/faults":                         db.addFault,
		"/faults/delete":                  db.deleteFaults,
		"/faults/{id}":                    db.editFault,
		"/faults/{id}/delete":             db.deleteFault,
	}
	for path, v := range actions {
		m.Handle("POST "+Path+path, db.signedIn(db.checked(v)))
	}
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		db.render(w, r, http.StatusNotFound, "error", page{Title: "Not found", Error: "The dashboard has no page " + r.URL.Path + "."})
	})
}

// page is what every template gets: the layout's fields and the page's own Data.
type page struct {
	Title string
	// Nav is the section the page belongs to, highlighted in the navigation.
	Nav    string
	Tenant string
	CSRF   string
	// Notice says what an action just did; Error what went wrong, with Problems its details.
	Notice   string
	Error    string
	Problems []string
	// Live is the address the live region reloads from; empty for pages without one.
	Live string
	Data any
}

// render writes the page's template with status, rendered in full first, so that a template
// fault is an error page rather than half a page.
func (db *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	var buf bytes.Buffer
	pages, err := db.pages()
	if err == nil {
		t := pages[name]
		if t == nil {
			t, status = pages["error"], http.StatusInternalServerError
			p = page{Title: "Error", Error: "The dashboard has no template " + name + "."}
		}
		err = t.ExecuteTemplate(&buf, "layout", p)
	}
	if err != nil {
		db.Logger.Error("dashboard: rendering a page", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "The dashboard could not render this page.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail shows err on an error page at the status of the Klarna error it maps to, as the API
// would answer it.
func (db *Dashboard) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	ke := mockserver.AsError(err)
	if ke.Status >= http.StatusInternalServerError {
		db.Logger.Error("dashboard: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p := page{Title: http.StatusText(ke.Status), Error: ke.ErrorMessage, Problems: problems(ke)}
	if s != nil {
		p.Tenant, p.CSRF = s.tenant, s.csrf
	}
	db.render(w, r, ke.Status, "error", p)
}

// problems lists a Klarna error's field errors as "parameter: message".
func problems(ke *mockserver.Error) []string {
	var out []string
	for _, f := range ke.Errors {
		out = append(out, f.Parameter+": "+f.ErrorMessage)
	}
	return out
}
