package webhook

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEmittedEventTypesAreKlarnas checks that the mock sends only event types Klarna documents
// (docs/klarna.md §8): each one it sends is subscribable because Klarna names it, not merely
// because the mock sends it.
func TestEmittedEventTypesAreKlarnas(t *testing.T) {
	t.Parallel()
	for _, e := range EventTypes() {
		require.True(t, isKlarnaEventType(e), "the mock sends %s, which is not among Klarna's event types", e)
	}
}
