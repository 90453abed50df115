package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// DatabaseEnv names the environment variable holding the PostgreSQL database the tests may use
// (a postgres:// URL or a libpq key=value string). .ci/pg.sh starts a throwaway one and prints
// its URL.
const DatabaseEnv = "KLARNA_MOCK_TEST_DATABASE_URL"

// Database returns the URL of a schema of its own on the test database, created for t and
// dropped when t ends, so tests on the database run in parallel without seeing each other. When
// DatabaseEnv is unset it skips t, unless CI is true (as strconv.ParseBool reads it): CI must run
// every test, so there it is a failure.
func Database(t testing.TB) string {
	t.Helper()
	base := os.Getenv(DatabaseEnv)
	if base == "" {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("%s is unset under CI=true: CI runs the PostgreSQL tests (.ci/run starts a database with .ci/pg.sh)", DatabaseEnv)
		}
		t.Skipf("no test database: set %s (bash .ci/pg.sh start DIR prints one) to run the PostgreSQL tests", DatabaseEnv)
	}
	var suffix [8]byte
	_, _ = rand.Read(suffix[:])
	schema := "test_" + hex.EncodeToString(suffix[:])
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	require.NoError(t, err, "connecting to %s", DatabaseEnv)
	defer func() { _ = admin.Close(ctx) }()
	_, err = admin.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer func() { _ = conn.Close(ctx) }()
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return withSearchPath(t, base, schema)
}

// withSearchPath returns the connection string with search_path set to schema, which pgx sends
// as a run-time parameter of every connection.
func withSearchPath(t testing.TB, conn, schema string) string {
	if !strings.HasPrefix(conn, "postgres://") && !strings.HasPrefix(conn, "postgresql://") {
		return conn + " search_path=" + schema
	}
	u, err := url.Parse(conn)
	require.NoError(t, err, "parsing %s", DatabaseEnv)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
