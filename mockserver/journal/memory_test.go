package journal_test

import (
	"testing"

	"github.com/klarna-mock/klarna-mock/mockserver/journal"
	"github.com/klarna-mock/klarna-mock/mockserver/journal/journaltest"
)

// TestMemoryConformance runs the journal stores' conformance suite on the memory ring.
func TestMemoryConformance(t *testing.T) {
	t.Parallel()
	journaltest.Run(t, func(*testing.T) (journal.Store, func(string)) {
		m := journal.NewMemory()
		return m, m.Forget
	})
}
