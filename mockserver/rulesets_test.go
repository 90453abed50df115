package mockserver_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/fixtures"
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

func TestParseRules(t *testing.T) {
	t.Parallel()
	doc, err := mockserver.ParseRules([]byte(`{"version": 1, "rules": [{"name": "a", "then": {"result": "APPROVED"}}]}`), true)
	require.NoError(t, err)
	require.True(t, doc.JSON)
	require.Equal(t, mockserver.TenantRulesName+":1", doc.Set.Rules()[0].Decision.Source)

	_, err = mockserver.ParseRules([]byte("version: 1\nrules:\n  - name: a\n    then: {result: MAYBE}\n  - name: a\n    then: {result: APPROVED}\n"), false)
	var ke *mockserver.Error
	require.True(t, errors.As(err, &ke), "%v", err)
	require.Equal(t, http.StatusBadRequest, ke.Status)
	require.Equal(t, mockserver.CodeValidation, ke.ErrorCode)
	require.Equal(t, []mockserver.FieldError{
		{Parameter: "line 4", ErrorMessage: `rule "a": then.result: unknown result "MAYBE" (want APPROVED, DECLINED or STEP_UP_REQUIRED)`},
		{Parameter: "line 5", ErrorMessage: `rule #2: duplicate rule name "a" (first used at line 3)`},
	}, ke.Errors)
	require.Equal(t, `The rules document is invalid: line 4: rule "a": then.result: unknown result "MAYBE" (want APPROVED, DECLINED or STEP_UP_REQUIRED) (and 1 more).`, ke.ErrorMessage)

	_, err = mockserver.ParseRules([]byte(strings.Repeat("#", mockserver.MaxRulesDocumentBytes+1)), false)
	require.True(t, errors.As(err, &ke), "%v", err)
	require.Equal(t, http.StatusRequestEntityTooLarge, ke.Status)
}

func TestTenantRules(t *testing.T) {
	t.Parallel()
	defaults, err := fixtures.DefaultSet()
	require.NoError(t, err)
	svc := mockserver.NewService(mockserver.Config{Rules: defaults})
	doc, err := mockserver.ParseRules([]byte("version: 1\nrules:\n  - {name: mine, when: {amount: 1}, then: {result: APPROVED}}\n"), false)
	require.NoError(t, err)

	svc.SetTenantRules("a", doc)
	require.Same(t, doc, svc.TenantRules("a"))
	require.Nil(t, svc.TenantRules("b"))
	require.Equal(t, []string{"mine", "denied email"}, firstNames(svc.RulesOf("a"), 2))
	require.Same(t, defaults, svc.RulesOf("b"))

	// A reload changes the defaults under a tenant's own rules too; nil is no reload.
	reloaded := mustLoad(t, "version: 1\nrules:\n  - {name: reloaded, when: {amount: 2}, then: {result: APPROVED}}\n")
	svc.SetDefaultRules(rules.Merge(defaults, reloaded))
	svc.SetDefaultRules(nil)
	require.Equal(t, []string{"mine", "reloaded", "denied email"}, firstNames(svc.RulesOf("a"), 3))
	require.Equal(t, []string{"reloaded"}, firstNames(svc.RulesOf("b"), 1))

	svc.ForgetTenant("a")
	require.Nil(t, svc.TenantRules("a"), "the tenant's rules go with the tenant")
}

func mustLoad(t *testing.T, doc string) *rules.Set {
	t.Helper()
	set, err := rules.Load("t.yaml", []byte(doc))
	require.NoError(t, err)
	return set
}

// firstNames returns the names of the first n rules of set.
func firstNames(set *rules.Set, n int) []string {
	var names []string
	for _, r := range set.Rules()[:n] {
		names = append(names, r.Name)
	}
	return names
}
