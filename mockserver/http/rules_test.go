package http_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/browsertest"
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/app"
	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
)

// vipRules approves one address exactly and declines any other address of the same domain.
const vipRules = `version: 1
rules:
  - name: vip
    when: {email: VIP@shop.example}
    then: {result: APPROVED}
  - name: shop staff
    when: {email_contains: "@shop.example"}
    then: {result: DECLINED, result_reason: RISK_REJECTED}
`

// putRules sends a rules document with its media type.
func (h *harness) putRules(doc, contentType string) response {
	h.t.Helper()
	return h.do(http.MethodPut, "/mock/v1/rules", doc, "Content-Type", contentType)
}

func (h *harness) rules() response {
	h.t.Helper()
	r := h.do(http.MethodGet, "/mock/v1/rules", nil)
	require.Equal(h.t, http.StatusOK, r.status, r.body)
	return r
}

// withEmail is a one-time payment body whose customer has email.
func withEmail(email string) map[string]any {
	b := oneTime(11800)
	b["supplementary_purchase_data"].(map[string]any)["customer"] = map[string]any{"email": email}
	return b
}

// requireDecided asserts an authorize answer's result and the rule its header and the journal's
// newest entry name.
func (h *harness) requireDecided(r response, result, rule string) {
	h.t.Helper()
	require.Equal(h.t, http.StatusOK, r.status, r.body)
	require.Equal(h.t, result, r.str("payment_transaction_response.result"), r.body)
	require.Equal(h.t, rule, r.header.Get(mockhttp.HeaderRule))
	j := h.do(http.MethodGet, "/mock/v1/accounts/"+h.account+"/journal?path_contains=/payment/authorize&limit=1", nil)
	require.Equal(h.t, rule, j.str("entries.0.rule"), j.body)
}

func TestTenantRulesDecideOnlyTheirTenant(t *testing.T) {
	t.Parallel()
	a := newHarness(t)
	b := a.withKey(newKey())

	put := a.putRules(vipRules, "application/yaml")
	require.Equal(t, http.StatusOK, put.status, put.body)
	require.Equal(t, false, put.get("defaults"))
	require.Equal(t, "yaml", put.str("format"))
	require.Equal(t, vipRules, put.str("document"))
	require.Equal(t, "vip", put.str("rules.0.name"))
	require.Equal(t, mockserver.TenantRulesName+":3", put.str("rules.0.source"))
	require.Equal(t, []any{`email: "vip@shop.example"`}, put.get("rules.0.when"))
	require.Equal(t, "denied email", put.str("rules.2.name"), "the defaults follow the tenant's rules")

	// The exact email matches any case but no other address; the domain rule catches the rest.
	a.requireDecided(a.authorize(withEmail("vip@SHOP.example")), "APPROVED", "vip")
	a.requireDecided(a.authorize(withEmail("vip2@shop.example")), "DECLINED", "shop staff")
	a.requireDecided(a.authorize(withEmail("jane@example.com")), "STEP_UP_REQUIRED", "one-time")
	// Another tenant keeps the defaults.
	b.requireDecided(b.authorize(withEmail("vip@shop.example")), "STEP_UP_REQUIRED", "one-time")
	require.Equal(t, true, b.rules().get("defaults"))
	require.Equal(t, vipRules, a.rules().str("document"))

	del := a.do(http.MethodDelete, "/mock/v1/rules", nil)
	require.Equal(t, http.StatusOK, del.status, del.body)
	require.Equal(t, true, del.get("defaults"))
	require.Empty(t, del.str("document"))
	require.Equal(t, "denied email", del.str("rules.0.name"))
	a.requireDecided(a.authorize(withEmail("vip@shop.example")), "STEP_UP_REQUIRED", "one-time")
}

func TestTenantRulesInJSONReplacingTheDefaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	doc := "{\n\t\"version\": 1,\n\t\"replace_defaults\": true,\n\t\"rules\": [\n" +
		"\t\t{\"name\": \"decline all\", \"then\": {\"result\": \"DECLINED\", \"result_reason\": \"RISK_REJECTED\"}},\n" +
		"\t\t{\"name\": \"final\", \"when\": {\"kind\": \"final\"}, \"then\": {\"result\": \"APPROVED\"}}\n\t]\n}\n"
	put := h.putRules(doc, "application/json")
	require.Equal(t, http.StatusOK, put.status, put.body)
	require.Equal(t, "json", put.str("format"))
	require.Equal(t, true, put.get("replace_defaults"))
	require.Len(t, put.get("rules"), 2, "only the document's rules are tried")
	// Even a magic value of the defaults is decided by the document.
	h.requireDecided(h.authorize(oneTime(13400)), "DECLINED", "decline all")
}

func TestRulesHeaderNamesEveryDecision(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.requireDecided(h.authorize(withEmail("john+denied@example.com")), "DECLINED", "denied email")
	h.requireDecided(h.authorize(oneTime(13400)), "STEP_UP_REQUIRED", "step-up amount 134.00")

	// A step-up turned into a decline for a customer who is not present still names the rule.
	token := h.customerToken("payment:customer_not_present", "")
	r := h.authorize(charge(13400, false, "sub-1"), "Klarna-Customer-Token", token)
	h.requireDecided(r, "DECLINED", "step-up amount 134.00")
	require.Equal(t, mockserver.ReasonCustomerNotPresent, r.str("payment_transaction_response.result_reason"))

	// The final authorize, and its repeat with the same idempotency key.
	_, nst := h.completedRequest(11800)
	final := func() response {
		return h.authorize(finalAuthorize(11800, "USD"), "Klarna-Network-Session-Token", nst, "Klarna-Idempotency-Key", "final-1")
	}
	h.requireDecided(final(), "APPROVED", "final authorize")
	h.requireDecided(final(), "APPROVED", "final authorize")

	// A refused call was decided by no rule.
	refused := h.authorize(map[string]any{"currency": "USD"})
	require.Equal(t, http.StatusBadRequest, refused.status, refused.body)
	require.Empty(t, refused.header.Get(mockhttp.HeaderRule))
}

func TestDebugLogNamesTheRule(t *testing.T) {
	t.Parallel()
	var logs browsertest.Buffer // safe for the handlers' goroutines
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHarness(t, func(c *app.Config) { c.Logger = logger })
	h.requireDecided(h.authorize(oneTime(11800)), "STEP_UP_REQUIRED", "one-time")
	require.Contains(t, logs.String(), `path=/v2/accounts/`+h.account+`/payment/authorize status=200`)
	require.Contains(t, logs.String(), `rule=one-time`)
}

func TestPutRulesRefusesBadDocumentsAndChangesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	require.Equal(t, http.StatusOK, h.putRules(vipRules, "text/yaml").status)

	var many strings.Builder
	many.WriteString("version: 1\nrules:\n")
	for i := range mockserver.MaxTenantRules + 1 {
		fmt.Fprintf(&many, "  - {name: r%d, when: {amount: %d}, then: {result: APPROVED}}\n", i, i)
	}
	for _, tc := range []struct {
		name, doc, contentType string
		status                 int
		code                   string
		// lines are the errors[] entries' parameters, reasons a part of each one's message.
		lines, reasons []string
	}{
		{
			name: "two problems", contentType: "application/x-yaml",
			doc:    "version: 1\nrules:\n  - name: a\n    when: {kind: onetime}\n    then: {result: APPROVED}\n  - name: b\n    then: {result: MAYBE}\n",
			status: http.StatusBadRequest, code: "VALIDATION_ERROR",
			lines:   []string{"line 4", "line 7"},
			reasons: []string{`unknown kind "onetime"`, `unknown result "MAYBE"`},
		},
		{
			name: "YAML syntax", contentType: "application/yaml",
			doc:    "version: 1\nrules:\n  - name: a\n    then: {result: APPROVED\n",
			status: http.StatusBadRequest, code: "VALIDATION_ERROR",
			lines: []string{"line 4"}, reasons: []string{"YAML syntax error"},
		},
		{
			name: "JSON syntax", contentType: "application/json",
			doc:    "{\n  \"version\": 1,\n  \"rules\": [\n    {\"name\": \"a\",}\n  ]\n}\n",
			status: http.StatusBadRequest, code: "VALIDATION_ERROR",
			lines: []string{"line 4"}, reasons: []string{"JSON syntax error"},
		},
		{
			name: "too many rules", contentType: "application/yaml", doc: many.String(),
			status: http.StatusBadRequest, code: "VALIDATION_ERROR",
			lines: []string{"line 2"}, reasons: []string{"more than the 500 it may have"},
		},
		{
			name: "too large", contentType: "application/yaml",
			doc:    "version: 1\n" + strings.Repeat("# padding\n", mockserver.MaxRulesDocumentBytes/10),
			status: http.StatusRequestEntityTooLarge, code: "PAYLOAD_TOO_LARGE",
		},
		{
			name: "another media type", contentType: "text/plain", doc: vipRules,
			status: http.StatusBadRequest, code: "VALIDATION_ERROR", lines: []string{"Content-Type"},
		},
		{
			name: "no body", contentType: "application/yaml",
			status: http.StatusBadRequest, code: "VALIDATION_ERROR", lines: []string{"body"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.within(t).putRules(tc.doc, tc.contentType)
			requireError(t, r, tc.status, tc.code, "")
			for i, line := range tc.lines {
				require.Equal(t, line, r.str(fmt.Sprintf("errors.%d.parameter", i)), r.body)
			}
			for i, reason := range tc.reasons {
				require.Contains(t, r.str(fmt.Sprintf("errors.%d.error_message", i)), reason)
			}
			require.Equal(t, vipRules, h.within(t).rules().str("document"), "a refused document changes nothing")
		})
	}
}

func TestRulesNeedTheAPIKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	noKey := []string{"Authorization", ""}
	h.requireRejections([]rejection{
		{name: "get", method: http.MethodGet, path: "/mock/v1/rules", headers: noKey, status: http.StatusUnauthorized, code: "UNAUTHORIZED"},
		{name: "put", method: http.MethodPut, path: "/mock/v1/rules", body: vipRules, headers: append(noKey, "Content-Type", "application/yaml"), status: http.StatusUnauthorized, code: "UNAUTHORIZED"},
		{name: "delete", method: http.MethodDelete, path: "/mock/v1/rules", headers: noKey, status: http.StatusUnauthorized, code: "UNAUTHORIZED"},
	})
}
