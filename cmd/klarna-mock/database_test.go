package main

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/cli"
)

// TestDatabaseFlags checks the store flags: the URL comes from the flag or the environment, a
// database that cannot be reached stops start-up with a message saying so, and a pool of no
// connections is a usage error.
func TestDatabaseFlags(t *testing.T) {
	t.Parallel()
	const unreachable = "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--database-url", unreachable}, env(nil), io.Discard, io.Discard)
	require.ErrorContains(t, err, "database unreachable")
	err = run(context.Background(), []string{"--addr", "127.0.0.1:0"}, env(map[string]string{"KLARNA_MOCK_DATABASE_URL": unreachable}), io.Discard, io.Discard)
	require.ErrorContains(t, err, "database unreachable")

	err = run(context.Background(), []string{"--database-pool-size", "0"}, env(nil), io.Discard, io.Discard)
	require.ErrorIs(t, err, cli.ErrUsage)
	require.ErrorContains(t, err, "--database-pool-size 0")
	err = run(context.Background(), nil, env(map[string]string{"KLARNA_MOCK_DATABASE_POOL_SIZE": "-1"}), io.Discard, io.Discard)
	require.ErrorIs(t, err, cli.ErrUsage)
}
