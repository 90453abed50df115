package examples

import (
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/klarna-mock/klarna-mock/testkit"
)

// TestReadmeExamples runs the README's copy-paste blocks marked for it one after the other in
// one shell, as a reader pastes them, with the klarna-mock command on PATH: the token creation
// by hand, then rules, faults, webhook tools and state, which use its key and Payment Request.
// The mock's webhook, set at start as --webhook-url would, goes to a listener that checks
// signatures. It expects exactly the output the blocks' "# " lines show.
func TestReadmeExamples(t *testing.T) {
	t.Parallel()
	bash := lookTools(t)
	bin := buildKlarnaMock(t)
	scripts, wants := docBlocks(t, "../README.md", "<!-- examples/readme_test.go runs this block")
	// What a reader's typing leaves time for: the Payment Request's events reach the webhook's
	// delivery log, where the webhook tools find them, before the next block.
	settle := `until [ "$(curl -s $M/mock/v1/deliveries/due -H "Authorization: Basic $K" | jq '.count + .events_pending')" = 0 ]; do sleep 0.05; done`
	script := scripts[0] + "\n" + settle + "\n" + strings.Join(scripts[1:], "\n")

	const secret = "readme-s3cret"
	srv := httptest.NewServer(newListener(secret))
	t.Cleanup(srv.Close)
	m := testkit.NewMock(t, testkit.WithWebhook(srv.URL, secret))
	runDocScript(t, bash, m.URL, script, strings.Join(wants, "\n"), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}
