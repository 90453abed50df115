package mockclock_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/reference-impl/mockclock"
)

const key = "klarna_test_api_clock"

// fakeMock answers GET /mock/v1/clock as a klarna-mock does, for the key it knows, with a time
// the test sets; status, when set, is answered instead.
type fakeMock struct {
	mu     sync.Mutex
	now    time.Time
	status int
	reads  int
}

func (f *fakeMock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	switch {
	case r.Method != http.MethodGet || r.URL.Path != "/mock/v1/clock":
		w.WriteHeader(http.StatusNotFound)
	case r.Header.Get("Authorization") != "Basic "+key:
		w.WriteHeader(http.StatusUnauthorized)
	case f.status != 0:
		w.WriteHeader(f.status)
	default:
		_ = json.NewEncoder(w).Encode(map[string]any{"now": f.now, "offset": "0s"})
	}
}

func (f *fakeMock) set(now time.Time, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now, f.status = now, status
}

func (f *fakeMock) readCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

func start(t *testing.T, now time.Time) (*fakeMock, string) {
	t.Helper()
	f := &fakeMock{now: now}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

// requireNear checks a time read off a moving clock: within the second a test takes.
func requireNear(t *testing.T, want, got time.Time) {
	t.Helper()
	require.WithinDuration(t, want, got, time.Second)
}

func TestWithoutATTLEveryCallReadsTheMock(t *testing.T) {
	t.Parallel()
	ahead := time.Now().Add(6 * time.Hour)
	f, url := start(t, ahead)
	c := mockclock.New(mockclock.Config{BaseURL: url + "/", APIKey: key})
	requireNear(t, ahead, c.Now())
	f.set(ahead.Add(61*time.Minute), 0)
	requireNear(t, ahead.Add(61*time.Minute), c.Now())
	require.Equal(t, 2, f.readCount())
}

func TestAReadingIsReusedForTheTTLUnlessExpired(t *testing.T) {
	t.Parallel()
	ahead := time.Now().Add(2 * time.Hour)
	f, url := start(t, ahead)
	c := mockclock.New(mockclock.Config{BaseURL: url, APIKey: key, TTL: time.Hour})
	requireNear(t, ahead, c.Now())
	f.set(ahead.Add(3*time.Hour), 0)
	// Time runs on from the reading at the local pace.
	requireNear(t, ahead, c.Now())
	require.Equal(t, 1, f.readCount())

	c.Expire()
	requireNear(t, ahead.Add(3*time.Hour), c.Now())
	require.Equal(t, 2, f.readCount())
}

func TestAMockThatCannotBeReadKeepsTheLastOffset(t *testing.T) {
	t.Parallel()
	ahead := time.Now().Add(2 * time.Hour)
	f, url := start(t, ahead)
	var logs bytes.Buffer
	c := mockclock.New(mockclock.Config{BaseURL: url, APIKey: key,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	requireNear(t, ahead, c.Now())

	f.set(ahead, http.StatusServiceUnavailable)
	requireNear(t, ahead, c.Now())
	requireNear(t, ahead, c.Now())
	require.Equal(t, 1, bytes.Count(logs.Bytes(), []byte("cannot read the klarna-mock clock")), "one warning per failure, not per call: %s", logs.String())

	f.set(ahead.Add(time.Hour), 0)
	requireNear(t, ahead.Add(time.Hour), c.Now())
}

func TestARefusedKeyGivesNoOffset(t *testing.T) {
	t.Parallel()
	_, url := start(t, time.Now().Add(time.Hour))
	c := mockclock.New(mockclock.Config{BaseURL: url, APIKey: "klarna_test_api_someone_else"})
	requireNear(t, time.Now(), c.Now())
}

func TestABaseURLWithoutTheMocksClockLeavesTheLocalClock(t *testing.T) {
	t.Parallel()
	f, url := start(t, time.Now().Add(time.Hour))
	// Under another path the fake answers 404, as real Klarna does.
	c := mockclock.New(mockclock.Config{BaseURL: url + "/klarna", APIKey: key})
	for range 3 {
		requireNear(t, time.Now(), c.Now())
	}
	c.Expire()
	requireNear(t, time.Now(), c.Now())
	require.Equal(t, 1, f.readCount(), "a base URL that answered 404 is not asked again")
}
