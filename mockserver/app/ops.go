package app

import (
	"runtime/debug"

	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
	"github.com/klarna-mock/klarna-mock/mockserver/metrics"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// DevelVersion is the version of a build that recorded none: the go command's own word for it.
const DevelVersion = "(devel)"

// Version is the version the running binary was built as, from the build information the go
// command records: the main module's version when there is one (a tag such as v1.4.0 for
// "go install ...@v1.4.0" or a build of a tagged checkout, a pseudo-version naming the git
// revision for a build of a git checkout), else the git revision alone when only that was
// recorded, else DevelVersion: a build outside a git checkout, as the Dockerfile's is (.git is not
// in its context), or with -buildvcs=false. cmd/klarna-mock's -ldflags "-X main.version=..."
// overrides it.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return DevelVersion
	}
	if v := bi.Main.Version; v != "" && v != DevelVersion {
		return v
	}
	var revision, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if revision == "" {
		return DevelVersion
	}
	return revision + modified
}

// readyChecks are what /readyz checks besides the contracts: the store answering, the database
// when the mock keeps its state in one.
func (m *Mock) readyChecks() []mockhttp.ReadyCheck {
	return []mockhttp.ReadyCheck{m.store.readyCheck()}
}

// watch registers the metrics read from the mock's state at each scrape.
func (m *Mock) watch() error {
	return m.Metrics.Watch(metrics.Gauges{
		Tenants:       m.Tenants,
		QueueDepth:    m.Notifier.Pending,
		StoredObjects: m.store.Totals,
	})
}

// deliveryOutcome counts the state a webhook attempt left its delivery in.
func (m *Mock) deliveryOutcome(state string) {
	switch state {
	case webhook.DeliveryDelivered:
		m.Metrics.Delivery(metrics.DeliveryDelivered)
	case webhook.DeliveryPending:
		m.Metrics.Delivery(metrics.DeliveryRetry)
	case webhook.DeliveryFailed:
		m.Metrics.Delivery(metrics.DeliveryFailed)
	}
}
