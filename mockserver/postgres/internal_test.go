package postgres

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// TestStoredTypesHideNothing walks every stored type: MessagePack writes exported fields only, so
// an unexported field would be lost on the way through the database. The Payment Request's packed
// initial authorize is the one the store carries itself (storedRequest).
func TestStoredTypesHideNothing(t *testing.T) {
	t.Parallel()
	carried := map[string]bool{"mockserver.PaymentRequest.initial": true}
	var hidden []string
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			walk(typ.Elem())
			return
		case reflect.Struct:
		default:
			return
		}
		if typ == timeType || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() && !carried[typ.String()+"."+f.Name] {
				hidden = append(hidden, typ.String()+"."+f.Name)
			}
			walk(f.Type)
		}
	}
	for _, v := range []any{
		mockserver.PaymentRequest{}, mockserver.PaymentTransaction{}, mockserver.CustomerToken{},
		mockserver.NetworkSession{}, mockserver.IdempotencyRecord{}, mockserver.AuthorizeRequest{},
		webhook.SigningKey{}, webhook.Webhook{}, webhook.Delivery{},
	} {
		walk(reflect.TypeOf(v))
	}
	require.Empty(t, hidden, "unexported fields of stored types would not survive the database: carry them as storedRequest does")
}

// TestMigrationsAreNumbered checks the embedded migrations run 1, 2, 3, ... and each is SQL.
func TestMigrationsAreNumbered(t *testing.T) {
	t.Parallel()
	all, err := migrations()
	require.NoError(t, err)
	require.NotEmpty(t, all)
	for i, m := range all {
		require.Equal(t, i+1, m.version, m.name)
		require.NotEmpty(t, m.sql, m.name)
	}
}

// TestDatabaseErrors checks which errors become the 503 a retry may cure: the database away, not
// a statement the server refused.
func TestDatabaseErrors(t *testing.T) {
	t.Parallel()
	require.NoError(t, dbError(nil))
	for _, err := range []error{
		errors.New("dial unix /tmp/.s.PGSQL.5432: connect: connection refused"),
		context.DeadlineExceeded,
		&pgconn.PgError{Code: "57P01"}, // admin_shutdown
		&pgconn.PgError{Code: "53300"}, // too_many_connections
		&pgconn.PgError{Code: "08006"}, // connection_failure
		&pgconn.PgError{Code: "40P01"}, // deadlock_detected
	} {
		var ke *mockserver.Error
		require.ErrorAs(t, dbError(err), &ke, "%v", err)
		require.Equal(t, mockserver.CodeServiceUnavailable, ke.ErrorCode)
		require.Equal(t, 503, ke.Status)
	}
	refused := dbError(&pgconn.PgError{Code: "42P01", Message: "relation does not exist"})
	var ke *mockserver.Error
	require.False(t, errors.As(refused, &ke), "a statement the server refused is the mock's fault: %v", refused)
}

func TestOpenRefusesABadURL(t *testing.T) {
	t.Parallel()
	_, err := Open(t.Context(), Config{URL: "postgres://%zz"})
	require.ErrorContains(t, err, "database URL")
}
