package http

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

// TestReadAllAsIoReadAll checks readAll against io.ReadAll whatever length the client
// declared: the right one, none, too short, too long, or one past what is presized; and its
// limit against http.MaxBytesReader's.
func TestReadAllAsIoReadAll(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 511, 512, 513, 4096, 70 << 10} {
		body := strings.Repeat("x", n)
		for _, declared := range []int64{int64(n), -1, 0, int64(n) / 2, int64(n) + 7} {
			for name, r := range map[string]func() io.Reader{
				"whole":         func() io.Reader { return strings.NewReader(body) },
				"byte by byte":  func() io.Reader { return iotest.OneByteReader(strings.NewReader(body)) },
				"eof with data": func() io.Reader { return iotest.DataErrReader(strings.NewReader(body)) },
			} {
				got, err := readAll(r(), declared, int64(n))
				require.NoError(t, err)
				require.Equal(t, []byte(body), bytes.Clone(got), "%d bytes declared %d, %s", n, declared, name)
				// One byte over the limit is refused as http.MaxBytesReader refuses it.
				if n > 0 {
					_, err = readAll(r(), min(declared, int64(n-1)), int64(n-1))
					var tooLarge *http.MaxBytesError
					require.ErrorAs(t, err, &tooLarge, "%d bytes declared %d, %s", n, declared, name)
					require.Equal(t, int64(n-1), tooLarge.Limit)
				}
			}
		}
	}
	failing := errors.New("gone")
	_, err := readAll(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(failing)), 3, 10)
	require.ErrorIs(t, err, failing)
}
