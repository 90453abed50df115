package examples

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
	"github.com/klarna-mock/klarna-mock/testkit"
)

// TestWebhookToolsExamples runs the three copy-paste blocks of docs/webhooks.md's "Webhook
// tools" one after the other in one shell, as a reader would, against a mock whose webhook
// configured at start goes to a listener that checks signatures and the events' age and answers
// as the page says. It expects exactly the output the blocks' "# " lines show.
func TestWebhookToolsExamples(t *testing.T) {
	t.Parallel()
	bash := lookTools(t)
	var script, want []string
	for _, nth := range []string{"first", "second", "third"} {
		block, output := docBlock(t, "../docs/webhooks.md", "<!-- examples/webhooks_test.go runs this block "+nth)
		script, want = append(script, block), append(want, output)
	}
	const secret = "listener-s3cret"
	srv := httptest.NewServer(newListener(secret))
	t.Cleanup(srv.Close)
	m := testkit.NewMock(t, testkit.WithWebhook(srv.URL, secret))
	runDocScript(t, bash, m.URL, strings.Join(script, "\n"), strings.Join(want, "\n"))
}

// listener answers as the page's listener: 400 to a bad signature (checked by the reference
// acquirer's keyring, as its own listener checks) or an event more than five minutes old, 200
// otherwise.
type listener struct{ keys *klarna.Keyring }

func newListener(secret string) *listener {
	keys := klarna.NewKeyring()
	keys.SetDefault(secret)
	return &listener{keys: keys}
}

func (l *listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || !l.keys.Verify(r.Header.Get(klarna.HeaderSigningKeyID), body, r.Header.Get(klarna.HeaderSignature)) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	e, err := klarna.ParseEvent(body)
	if err != nil || time.Since(e.Metadata.OccurredAt) > 5*time.Minute {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
}
