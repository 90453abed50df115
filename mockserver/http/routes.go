package http

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// Contract documents, by file name in contracts/.
const (
	contractPayments = "klarna-payments.yaml"
	contractControl  = "mock-control.yaml"
	contractNotify   = "klarna-notifications.yaml"
	contractIdentity = "klarna-identity.yaml"
)

// routes mounts every endpoint of the mock. This is the one place to see the whole surface.
func (s *Server) routes() error {
	const account = "/v2/accounts/{partner_account_id}"
	const direct = "/v2"
	const control = "/mock/v1"
	for _, rt := range []route{
		// Klarna's Payment API (klarna-payments.yaml).
		{method: http.MethodPost, path: account + "/payment/authorize", contract: contractPayments, journaled: true, idempotent: true, handle: s.authorize},
		{method: http.MethodPost, path: account + "/payment/requests", contract: contractPayments, journaled: true, idempotent: true, handle: s.createPaymentRequest},
		{method: http.MethodGet, path: account + "/payment/requests/{payment_request_id}", contract: contractPayments, journaled: true, handle: s.readPaymentRequest},
		{method: http.MethodDelete, path: account + "/payment/requests/{payment_request_id}", contract: contractPayments, journaled: true, handle: s.cancelPaymentRequest},
		{method: http.MethodGet, path: account + "/payment/transactions/{payment_transaction_id}", contract: contractPayments, journaled: true, handle: s.readPaymentTransaction},
		// A transaction's life after authorization (docs/klarna.md §10), and the Payment
		// Request update, PUT as Klarna's newest pages publish it and PATCH as older ones (§6).
		{method: http.MethodPatch, path: account + "/payment/transactions/{payment_transaction_id}", contract: contractPayments, journaled: true, idempotent: true, handle: bodyCall(http.StatusOK, s.updatePaymentTransaction)},
		{method: http.MethodPost, path: account + "/payment/transactions/{payment_transaction_id}/captures", contract: contractPayments, journaled: true, idempotent: true, handle: bodyCall(http.StatusCreated, s.capturePaymentTransaction)},
		{method: http.MethodPost, path: account + "/payment/transactions/{payment_transaction_id}/refunds", contract: contractPayments, journaled: true, idempotent: true, handle: bodyCall(http.StatusCreated, s.refundPaymentTransaction)},
		{method: http.MethodPost, path: account + "/payment/transactions/{payment_transaction_id}/captures/{payment_capture_id}/refunds", contract: contractPayments, journaled: true, idempotent: true, handle: bodyCall(http.StatusCreated, s.refundPaymentTransaction)},
		{method: http.MethodPost, path: account + "/payment/transactions/{payment_transaction_id}/void", contract: contractPayments, journaled: true, idempotent: true, handle: bodyCall(http.StatusOK, s.voidPaymentTransaction)},
		{method: http.MethodPut, path: account + "/payment/requests/{payment_request_id}", contract: contractPayments, journaled: true, idempotent: true, handle: bodyCall(http.StatusOK, s.updatePaymentRequest)},
		{method: http.MethodPatch, path: account + "/payment/requests/{payment_request_id}", contract: contractPayments, journaled: true, idempotent: true, handle: bodyCall(http.StatusOK, s.updatePaymentRequest)},
		{method: http.MethodGet, path: account + "/payment/presentation", contract: contractPayments, journaled: true, handle: s.presentation},
		{method: http.MethodPost, path: account + "/interoperability/test-tokens", contract: contractPayments, journaled: true, idempotent: true, handle: s.mintTestToken},
		{method: http.MethodPost, path: account + "/interoperability/sdk-tokens", contract: contractPayments, journaled: true, idempotent: true, handle: s.interoperabilitySDKToken},

		// The same Payment API on the paths of Partners that integrate directly, on the same
		// host: no account in the path, the API key's own instead (docs/klarna.md §2).
		{method: http.MethodPost, path: direct + "/payment/authorize", contract: contractPayments, journaled: true, direct: true, idempotent: true, handle: s.authorize},
		{method: http.MethodGet, path: direct + "/payment/presentation", contract: contractPayments, journaled: true, direct: true, handle: s.presentation},
		{method: http.MethodPost, path: direct + "/payment/requests", contract: contractPayments, journaled: true, direct: true, idempotent: true, handle: s.createPaymentRequest},
		{method: http.MethodGet, path: direct + "/payment/requests/{payment_request_id}", contract: contractPayments, journaled: true, direct: true, handle: s.readPaymentRequest},
		{method: http.MethodDelete, path: direct + "/payment/requests/{payment_request_id}", contract: contractPayments, journaled: true, direct: true, handle: s.cancelPaymentRequest},
		{method: http.MethodPut, path: direct + "/payment/requests/{payment_request_id}", contract: contractPayments, journaled: true, direct: true, idempotent: true, handle: bodyCall(http.StatusOK, s.updatePaymentRequest)},

		// Klarna's Identity API (klarna-identity.yaml): SDK tokens and customer tokens.
		{method: http.MethodPost, path: account + "/identity/sdk-tokens", contract: contractIdentity, journaled: true, idempotent: true, handle: s.identitySDKToken},
		{method: http.MethodPost, path: direct + "/identity/sdk-tokens", contract: contractIdentity, journaled: true, direct: true, idempotent: true, handle: s.identitySDKToken},
		{method: http.MethodPost, path: account + "/identity/customer-tokens/introspect", contract: contractIdentity, journaled: true, idempotent: true, handle: s.introspectCustomerToken},
		{method: http.MethodPost, path: account + "/identity/customer-tokens/revoke", contract: contractIdentity, journaled: true, idempotent: true, handle: s.revokeIdentityCustomerToken},

		// The Purchase Journey the customer sees: HTML, so no contract check (documented in
		// mock-control.yaml). The id is the capability, as with Klarna's payment_request_url;
		// the path is mockserver.JourneyPath, which payment_request_url is built on.
		{method: http.MethodGet, path: "/journey/{payment_request_id}", public: true, raw: true, handle: s.journeyPage},
		{method: http.MethodPost, path: "/journey/{payment_request_id}", public: true, raw: true, handle: s.journeySubmit},

		// The mock's own control API (mock-control.yaml): the tenant's own, so every route takes
		// the tenant's key and answers another tenant's ids as unknown ones.
		{method: http.MethodPost, path: control + "/payment-requests/{payment_request_id}/{action}", contract: contractControl, handle: s.journeyAction},
		{method: http.MethodGet, path: control + "/clock", contract: contractControl, handle: s.readClock},
		{method: http.MethodPost, path: control + "/clock/advance", contract: contractControl, handle: s.advanceClock},
		{method: http.MethodGet, path: control + "/accounts/{partner_account_id}/customer-tokens/{customer_token}", contract: contractControl, handle: s.readCustomerToken},
		{method: http.MethodPost, path: control + "/accounts/{partner_account_id}/customer-tokens/{customer_token}/revoke", contract: contractControl, handle: s.revokeCustomerToken},
		{method: http.MethodGet, path: control + "/accounts/{partner_account_id}/journal", contract: contractControl, handle: s.readJournal},
		// The caller's outcome rules (rules.go). The body of a PUT is a rules document in YAML or
		// JSON, so raw: the contract checks its media type, the rules loader the document.
		{method: http.MethodGet, path: control + "/rules", contract: contractControl, handle: s.readRules},
		{method: http.MethodPut, path: control + "/rules", contract: contractControl, raw: true, handle: s.putRules},
		{method: http.MethodDelete, path: control + "/rules", contract: contractControl, handle: s.deleteRules},
		// Not idempotent: a stored answer would be an object of the tenant the reset just wiped.
		{method: http.MethodPost, path: control + "/reset", contract: contractControl, handle: s.resetTenant},
		// The caller's faults (faults.go), which make Klarna's API misbehave for its calls.
		{method: http.MethodGet, path: control + "/faults", contract: contractControl, handle: s.listFaults},
		{method: http.MethodPost, path: control + "/faults", contract: contractControl, handle: s.createFault},
		{method: http.MethodDelete, path: control + "/faults", contract: contractControl, handle: s.clearFaults},
		{method: http.MethodDelete, path: control + "/faults/{fault_id}", contract: contractControl, handle: s.deleteFault},
		// The caller's whole state as one document (state.go), larger than an API call's body.
		{method: http.MethodGet, path: control + "/state", contract: contractControl, handle: s.exportState},
		{method: http.MethodPut, path: control + "/state", contract: contractControl, maxBody: MaxStateBytes, handle: s.importState},

		// Operations (mock-control.yaml, ops.go): for probes and scrapers, so no key.
		{method: http.MethodGet, path: "/healthz", contract: contractControl, public: true, handle: s.healthz},
		{method: http.MethodGet, path: "/readyz", contract: contractControl, public: true, handle: s.readyz},
		{method: http.MethodGet, path: "/metrics", contract: contractControl, public: true, handle: s.serveMetrics},

		// The contracts themselves.
		{method: http.MethodGet, path: "/openapi.yaml", public: true, handle: s.serveContract(contractPayments)},
		{method: http.MethodGet, path: "/contracts/{file}", public: true, handle: s.serveNamedContract},
	} {
		if err := s.add(rt); err != nil {
			return err
		}
	}
	return nil
}

// dashboardRoutes mount the dashboard h (package mockserver/dashboard) under /dashboard, and
// redirect / there: HTML pages and forms, documented in mock-control.yaml like the journey page,
// with the dashboard's own sign-in (its session cookie or the API key as the API takes it), so
// public and raw here.
func dashboardRoutes(h http.Handler) []route {
	var routes []route
	for _, path := range []string{"/", "/dashboard", "/dashboard/{view}", "/dashboard/{view}/{id}", "/dashboard/{view}/{id}/{action}"} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			if method == http.MethodPost && (path == "/" || path == "/dashboard") {
				continue
			}
			routes = append(routes, route{method: method, path: path, public: true, raw: true, handle: passTo(h)})
		}
	}
	return routes
}

// notificationRoutes are Klarna's Notifications API (klarna-notifications.yaml) and the mock's
// delivery log (mock-control.yaml), mounted by EnableNotifications when the mock sends webhooks.
// The delivery log lives under /mock/v1 because Klarna has no such endpoints, and authenticates
// like the Notifications API: the API key's tenant owns the deliveries.
func (s *Server) notificationRoutes(n *webhook.Notifier) []route {
	const base = "/v2/notification"
	const control = "/mock/v1"
	api := notifications{n: n}
	return []route{
		{method: http.MethodPost, path: base + "/signing-keys", contract: contractNotify, idempotent: true, handle: tenantCall(http.StatusCreated, n.CreateSigningKey)},
		{method: http.MethodGet, path: base + "/signing-keys", contract: contractNotify, handle: listCall("signing_keys", n.ListSigningKeys)},
		{method: http.MethodGet, path: base + "/signing-keys/{signing_key_id}", contract: contractNotify, handle: objectCall("signing_key_id", n.ReadSigningKey)},
		{method: http.MethodDelete, path: base + "/signing-keys/{signing_key_id}", contract: contractNotify, handle: deleteCall("signing_key_id", n.DeleteSigningKey)},
		{method: http.MethodPost, path: base + "/webhooks", contract: contractNotify, idempotent: true, handle: bodyCall(http.StatusCreated, api.createWebhook)},
		{method: http.MethodGet, path: base + "/webhooks", contract: contractNotify, handle: listCall("webhooks", n.ListWebhooks)},
		{method: http.MethodGet, path: base + "/webhooks/{webhook_id}", contract: contractNotify, handle: objectCall("webhook_id", n.ReadWebhook)},
		{method: http.MethodPatch, path: base + "/webhooks/{webhook_id}", contract: contractNotify, idempotent: true, handle: bodyCall(http.StatusOK, api.updateWebhook)},
		{method: http.MethodDelete, path: base + "/webhooks/{webhook_id}", contract: contractNotify, handle: deleteCall("webhook_id", n.DeleteWebhook)},
		{method: http.MethodPost, path: base + "/webhooks/{webhook_id}/simulate", contract: contractNotify, idempotent: true, handle: bodyCall(http.StatusAccepted, api.simulateWebhook)},

		{method: http.MethodGet, path: control + "/webhooks/{webhook_id}/deliveries", contract: contractControl, handle: api.listDeliveries},
		// Before {delivery_id}: the router takes the first route that matches.
		{method: http.MethodGet, path: control + "/deliveries/due", contract: contractControl, handle: stateCall(n.Due)},
		{method: http.MethodGet, path: control + "/deliveries/status", contract: contractControl, handle: stateCall(n.Status)},
		{method: http.MethodPost, path: control + "/deliveries/pause", contract: contractControl, handle: stateCall(n.Pause)},
		{method: http.MethodPost, path: control + "/deliveries/resume", contract: contractControl, handle: stateCall(n.Resume)},
		{method: http.MethodGet, path: control + "/deliveries/{delivery_id}", contract: contractControl, handle: objectCall("delivery_id", n.Delivery)},
		// Webhook tools (docs/webhooks.md).
		{method: http.MethodPost, path: control + "/deliveries/{delivery_id}/redeliver", contract: contractControl, handle: api.redeliver},
		{method: http.MethodPost, path: control + "/webhooks/{webhook_id}/send", contract: contractControl, handle: bodyCall(http.StatusAccepted, api.sendToWebhook)},
	}
}

// mount registers h for the route's method and path on the router, naming the route
// "METHOD /path/{template}" (which the router keeps only as a name, for tests walking the
// routes). The path is matched by a pathPattern rather than by gorilla/mux's own template: the
// router compiles a regular expression for each template and one more for each of its
// variables, some 140 for the mock's routes (11,000 allocations), a quarter of the CPU the mock
// spent assembling itself before it listened; matching the segments is cheaper on every request
// too.
func (s *Server) mount(rt route, h http.Handler) error {
	p, err := newPathPattern(rt.method, rt.path)
	if err != nil {
		return err
	}
	if p.account >= 0 {
		p.accountVars = &s.accountVars
	}
	// The pattern goes before the method, as Router.Handle's path does: a route whose path
	// matches but not its method makes the router's 405 rather than its 404.
	s.router.NewRoute().Name(rt.method + " " + rt.path).MatcherFunc(p.match).Methods(rt.method).Handler(h)
	return nil
}

// pathPattern matches request paths against one route's path template as gorilla/mux matches
// the same template: the decoded path (the router does not use the encoded one), each {name}
// one whole non-empty segment without a slash, the rest literal, no trailing slash unless the
// template has one.
type pathPattern struct {
	method string
	// segments are the template's segments after its leading slash; vars holds the variable's
	// name at the index of each variable segment and "" at literal ones.
	segments, vars []string
	hasVars        bool
	// account is the index of the segment {partner_account_id} when it is the template's only
	// variable, -1 otherwise; accountVars, set by mount for such a template, remembers the
	// variables of each account.
	account     int
	accountVars *memo[string, map[string]string]
}

// newPathPattern reads a route's path template, refusing what gorilla/mux would read otherwise
// (a variable with its own pattern, or braces inside a segment).
func newPathPattern(method, template string) (*pathPattern, error) {
	rest, ok := strings.CutPrefix(template, "/")
	if !ok {
		return nil, fmt.Errorf("route %s %s: the path must start with a slash", method, template)
	}
	p := &pathPattern{method: method, account: -1}
	if rest == "" {
		return p, nil
	}
	p.segments = strings.Split(rest, "/")
	p.vars = make([]string, len(p.segments))
	variables := 0
	for i, seg := range p.segments {
		name, isVar := strings.CutPrefix(seg, "{")
		if isVar {
			name, isVar = strings.CutSuffix(name, "}")
		}
		switch {
		case isVar && name != "" && !strings.ContainsAny(name, "{}:"):
			p.vars[i], p.hasVars = name, true
			variables++
			if name == varAccount {
				p.account = i
			}
		case strings.ContainsAny(seg, "{}"):
			return nil, fmt.Errorf("route %s %s: segment %q: only whole segments {name} are supported", method, template, seg)
		}
	}
	if variables != 1 {
		p.account = -1
	}
	return p, nil
}

// varAccount is the path variable of the partner account.
const varAccount = "partner_account_id"

// match is the route's mux.MatcherFunc. It sets the path's variables only when the method is
// the route's too: the router goes on to later routes after a route whose path matched but not
// its method (to answer 405 when none matches), and would hand them variables that are not
// theirs.
func (p *pathPattern) match(r *http.Request, m *mux.RouteMatch) bool {
	if !p.matches(r.URL.Path) {
		return false
	}
	if p.hasVars && r.Method == p.method {
		m.Vars = p.varsOf(r.URL.Path)
	}
	return true
}

// varsOf returns the variables of path, which has the template's segments. Those of a template
// whose one variable is the partner account are the same on every call of the account, its
// Payment API calls above all: the map of each account is made once and shared by them all
// (accountVars), and is only ever read, as every route's variables are.
func (p *pathPattern) varsOf(path string) map[string]string {
	if p.accountVars != nil {
		if account := pathSegment(path, p.account); len(account) <= maxMemoKey {
			if vars, ok := p.accountVars.lookup(account); ok {
				return vars
			}
			// The memo keeps a copy of the account, not the path it is a part of.
			return p.accountVars.get(strings.Clone(account), accountOnlyVars)
		}
	}
	vars := make(map[string]string, len(p.vars))
	rest := path[1:]
	for _, name := range p.vars {
		seg, after, _ := strings.Cut(rest, "/")
		if name != "" {
			vars[name] = seg
		}
		rest = after
	}
	return vars
}

// pathSegment returns the i-th segment of path after its leading slash.
func pathSegment(path string, i int) string {
	rest := path[1:]
	for range i {
		_, rest, _ = strings.Cut(rest, "/")
	}
	seg, _, _ := strings.Cut(rest, "/")
	return seg
}

// accountOnlyVars are the path variables of a route whose one variable is the partner account.
func accountOnlyVars(account string) map[string]string { return map[string]string{varAccount: account} }

// matches reports whether path has the template's segments.
func (p *pathPattern) matches(path string) bool {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return false
	}
	if len(p.segments) == 0 {
		return rest == ""
	}
	for i, want := range p.segments {
		seg, after, more := strings.Cut(rest, "/")
		switch {
		case more != (i < len(p.segments)-1):
			return false
		case p.vars[i] != "":
			if seg == "" {
				return false
			}
		case seg != want:
			return false
		}
		rest = after
	}
	return true
}
