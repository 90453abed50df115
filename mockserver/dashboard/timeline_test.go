package dashboard_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/dashboard"
)

var timelineState = regexp.MustCompile(`<span class="state state-[^"]*">([^<]*)</span>`)

// timelineStates returns the states of a Payment Request page's timeline, in order.
func timelineStates(t *testing.T, page string) []string {
	t.Helper()
	start := strings.Index(page, `id="timeline"`)
	require.GreaterOrEqual(t, start, 0, page)
	list := page[start : start+strings.Index(page[start:], "</ol>")]
	var states []string
	for _, m := range timelineState.FindAllStringSubmatch(list, -1) {
		states = append(states, m[1])
	}
	return states
}

func TestTimelineShowsEveryTransitionWithoutAWebhook(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	id := m.stepUp(keyA, "pr-back-out")
	b := m.signedIn(keyA)
	b.act("/dashboard/payment-requests/"+id+"/open", nil)
	b.act("/dashboard/payment-requests/"+id+"/back-out", nil)
	page := b.act("/dashboard/payment-requests/"+id+"/approve", nil) // opens the journey again, then approves
	require.Equal(t, []string{"SUBMITTED", "IN_PROGRESS", "SUBMITTED", "IN_PROGRESS", "COMPLETED"}, timelineStates(t, page),
		"every transition once, though no webhook told of any")
	require.Contains(t, page, "from IN_PROGRESS, PURCHASE_FLOW_ABORTED")
	require.Contains(t, page, "from IN_PROGRESS: approved by the customer")
}

func TestForgettingATenantDropsItsTransitions(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	type opened struct{ tenant, id string }
	var requests []opened
	for _, key := range []string{keyA, keyB} {
		id := m.stepUp(key, "pr-forget")
		r := m.api(key, http.MethodPost, "/mock/v1/payment-requests/"+id+"/open", nil)
		require.Equal(t, http.StatusOK, r.status, r.body)
		pr, err := m.m.Service.PaymentRequest("", id)
		require.NoError(t, err)
		tenant, _ := mockserver.SplitScope(pr.AccountID)
		require.Equal(t, 1, dashboard.TransitionsOf(m.m.Dashboard.Hub, tenant, id))
		requests = append(requests, opened{tenant, id})
	}
	r := m.api(keyA, http.MethodPost, "/mock/v1/reset", nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Zero(t, dashboard.TransitionsOf(m.m.Dashboard.Hub, requests[0].tenant, requests[0].id), "the reset tenant's are gone")
	require.Equal(t, 1, dashboard.TransitionsOf(m.m.Dashboard.Hub, requests[1].tenant, requests[1].id), "another tenant's stay")
}
