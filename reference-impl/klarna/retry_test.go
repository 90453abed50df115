package klarna_test

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
)

const rateLimited = `{"error_id":"e3","error_type":"RATE_LIMIT_ERROR","error_code":"RATE_LIMITED","error_message":"slow down"}`

// withRetryAfter answers like status, with a Retry-After header.
func withRetryAfter(code int, value, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", value)
		status(code, body)(w, r)
	}
}

// hang answers nothing until the client gives up on the request.
func hang(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

// cutOff promises the whole answer in Content-Length and closes the connection halfway.
func cutOff(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(approved)))
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, approved[:len(approved)/2])
}

// halfJSON sends a complete HTTP answer whose JSON body stops halfway.
func halfJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, approved[:len(approved)/2])
}

// requireOneKey checks that every request carried the same, non-empty idempotency key.
func requireOneKey(t *testing.T, reqs []seen) {
	t.Helper()
	key := reqs[0].header.Get("Klarna-Idempotency-Key")
	require.NotEmpty(t, key)
	for _, r := range reqs {
		require.Equal(t, key, r.header.Get("Klarna-Idempotency-Key"))
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	for name, value := range map[string]func() string{
		"seconds":   func() string { return "1" },
		"HTTP-date": func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeKlarna{answers: []http.HandlerFunc{withRetryAfter(429, value(), rateLimited), status(200, approved)}}
			c := newClient(t, fake, fastRetry)

			start := time.Now()
			_, err := c.Authorize(t.Context(), authorizeParams())
			require.NoError(t, err)
			// An HTTP-date has whole seconds, so 2 s ahead is more than 1 s ahead.
			require.GreaterOrEqual(t, time.Since(start), time.Second, "the retry waits as long as Klarna asked, not the 5 ms backoff")
			require.Len(t, fake.seen(), 2)
			requireOneKey(t, fake.seen())
		})
	}
}

func TestARetryAfterTooLongIsGivenUpAtOnce(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		retryAfter string
		policy     klarna.RetryPolicy
	}{
		"longer than the client waits": {"30", fastRetry},
		"longer than the deadline leaves": {"2", klarna.RetryPolicy{InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
			Deadline: 500 * time.Millisecond, MaxRetryAfter: 10 * time.Second}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeKlarna{answers: []http.HandlerFunc{withRetryAfter(503, tc.retryAfter, unavailable)}}
			c := newClient(t, fake, tc.policy)

			start := time.Now()
			_, err := c.Authorize(t.Context(), authorizeParams())
			require.Less(t, time.Since(start), 400*time.Millisecond, "the client does not sleep on a wait it will not finish")
			require.ErrorIs(t, err, klarna.ErrUnavailable)
			require.NotErrorIs(t, err, klarna.ErrTimeout)
			var ue *klarna.UnavailableError
			require.ErrorAs(t, err, &ue)
			require.Equal(t, 1, ue.Attempts)
			want, _ := strconv.Atoi(tc.retryAfter)
			require.Equal(t, time.Duration(want)*time.Second, ue.RetryAfter, "the wait is kept for the caller to pass on")
			var ke *klarna.Error
			require.ErrorAs(t, err, &ke)
			require.Equal(t, 503, ke.StatusCode)
			require.Len(t, fake.seen(), 1)
		})
	}
}

func TestTimedOutAttemptsAreRetriedUnderTheSameKey(t *testing.T) {
	t.Parallel()
	fake := &fakeKlarna{answers: []http.HandlerFunc{hang, hang, status(200, approved)}}
	retry := fastRetry
	retry.AttemptTimeout = 100 * time.Millisecond
	c := newClient(t, fake, retry)

	_, err := c.Authorize(t.Context(), authorizeParams())
	require.NoError(t, err)
	require.Len(t, fake.seen(), 3)
	requireOneKey(t, fake.seen())
}

func TestAKlarnaThatNeverAnswersEndsAtTheDeadline(t *testing.T) {
	t.Parallel()
	fake := &fakeKlarna{answers: []http.HandlerFunc{hang}}
	// The attempt timeout is longer than the whole deadline: the deadline cuts the attempt.
	retry := klarna.RetryPolicy{InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Deadline: 300 * time.Millisecond, AttemptTimeout: time.Minute}
	c := newClient(t, fake, retry)

	start := time.Now()
	_, err := c.Authorize(t.Context(), authorizeParams())
	elapsed := time.Since(start)
	require.ErrorIs(t, err, klarna.ErrTimeout)
	require.ErrorIs(t, err, klarna.ErrUnavailable)
	var ue *klarna.UnavailableError
	require.ErrorAs(t, err, &ue)
	require.True(t, ue.Timeout)
	require.GreaterOrEqual(t, elapsed, 300*time.Millisecond)
	require.Less(t, elapsed, 2*time.Second, "the deadline bounds the call however long an attempt may take")
}

func TestAllAttemptsTimingOutIsATimeout(t *testing.T) {
	t.Parallel()
	fake := &fakeKlarna{answers: []http.HandlerFunc{hang}}
	retry := fastRetry
	retry.MaxAttempts, retry.AttemptTimeout = 3, 50*time.Millisecond
	c := newClient(t, fake, retry)

	_, err := c.Authorize(t.Context(), authorizeParams())
	var ue *klarna.UnavailableError
	require.ErrorAs(t, err, &ue)
	require.True(t, ue.Timeout)
	require.Equal(t, 3, ue.Attempts)
	require.Contains(t, err.Error(), "all 3 attempts failed")
	require.Len(t, fake.seen(), 3)
	requireOneKey(t, fake.seen())
}

func TestCutOffAnswersAreRetriedUnderTheSameKey(t *testing.T) {
	t.Parallel()
	for name, damaged := range map[string]http.HandlerFunc{"connection closed halfway": cutOff, "JSON stops halfway": halfJSON} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeKlarna{answers: []http.HandlerFunc{damaged, status(200, approved)}}
			c := newClient(t, fake, fastRetry)

			resp, err := c.Authorize(t.Context(), authorizeParams())
			require.NoError(t, err)
			require.Equal(t, "krn:payment:eu1:transaction:1", resp.Transaction().PaymentTransactionID)
			require.Len(t, fake.seen(), 2)
			requireOneKey(t, fake.seen())
		})
	}
}

func TestAnAnswerOfTheWrongShapeIsNotRetried(t *testing.T) {
	t.Parallel()
	fake := &fakeKlarna{answers: []http.HandlerFunc{status(200, `{"payment_transaction_response":"not an object"}`)}}
	c := newClient(t, fake, fastRetry)

	_, err := c.Authorize(t.Context(), authorizeParams())
	var ke *klarna.Error
	require.ErrorAs(t, err, &ke)
	require.Equal(t, "UNEXPECTED_RESPONSE", ke.ErrorCode)
	require.NotErrorIs(t, err, klarna.ErrUnavailable)
	require.Len(t, fake.seen(), 1, "a well-formed answer Klarna repeats would not parse the next time either")
}

func TestReadsAreRetriedWithoutAnIdempotencyKey(t *testing.T) {
	t.Parallel()
	fake := &fakeKlarna{answers: []http.HandlerFunc{status(502, `bad gateway`), dropConnection,
		status(200, `{"payment_request_id":"krn:payment:eu1:request:1","state":"SUBMITTED"}`)}}
	c := newClient(t, fake, fastRetry)

	pr, err := c.PaymentRequest(t.Context(), "", "krn:payment:eu1:request:1")
	require.NoError(t, err)
	require.Equal(t, "SUBMITTED", pr.State)
	require.Len(t, fake.seen(), 3)
	for _, r := range fake.seen() {
		require.Equal(t, http.MethodGet, r.method)
		require.Empty(t, r.header.Get("Klarna-Idempotency-Key"), "a read is repeated as it is")
	}
}

func TestWhichStatusesAreRetried(t *testing.T) {
	t.Parallel()
	for code, retried := range map[int]bool{408: true, 429: true, 500: true, 502: true, 503: true, 504: true,
		400: false, 401: false, 403: false, 404: false, 409: false, 422: false, 501: false} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			fake := &fakeKlarna{answers: []http.HandlerFunc{status(code, `{"error_id":"e","error_type":"X","error_code":"X","error_message":"x"}`), status(200, approved)}}
			c := newClient(t, fake, fastRetry)

			_, err := c.Authorize(t.Context(), authorizeParams())
			if retried {
				require.NoError(t, err)
				require.Len(t, fake.seen(), 2)
				return
			}
			var ke *klarna.Error
			require.ErrorAs(t, err, &ke)
			require.Equal(t, code, ke.StatusCode)
			require.Len(t, fake.seen(), 1)
		})
	}
}

func TestUnavailableErrorSaysWhatHappened(t *testing.T) {
	t.Parallel()
	last := &klarna.Error{StatusCode: 503, ErrorCode: "SERVICE_UNAVAILABLE", ErrorMessage: "try later"}
	err := error(&klarna.UnavailableError{Method: "POST", Path: "/v2/x", Attempts: 5, Reason: "all 5 attempts failed", Err: last})
	require.Equal(t, "klarna unavailable: POST /v2/x given up after 5 attempts (all 5 attempts failed): klarna: 503 SERVICE_UNAVAILABLE: try later", err.Error())
	require.ErrorIs(t, err, klarna.ErrUnavailable)
	require.False(t, errors.Is(err, klarna.ErrTimeout))
	require.ErrorIs(t, &klarna.UnavailableError{Timeout: true}, klarna.ErrTimeout)
}
