// Package klarna is a typed client for the Klarna Network payment APIs an Acquiring Partner
// calls: Payment Authorize (initial and final), Payment Presentation, and the notification API
// that registers webhooks. It also verifies Klarna's webhook signatures (Keyring).
//
// The client is self-contained, like a vendor SDK: it knows Klarna, not the acquirer. Every call
// is safe to retry: each logical operation that changes something (a POST or PATCH) carries one
// Klarna-Idempotency-Key, reused on every attempt, and reads are retried as they are. Failures
// that may pass (transport errors, timeouts, cut-off answers, 408, 429 and 5xx) are retried with
// exponential backoff and full jitter, never sooner than Klarna's Retry-After, until the attempts
// or an overall deadline run out; the call then fails with an *UnavailableError.
package klarna

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/klarna-mock/klarna-mock/reference-impl/backoff"
)

// Request headers Klarna reads.
const (
	HeaderIdempotencyKey      = "Klarna-Idempotency-Key"
	HeaderNetworkSessionToken = "Klarna-Network-Session-Token"
	HeaderCustomerToken       = "Klarna-Customer-Token"
	HeaderPartnerCorrelation  = "Partner-Correlation-Id"
	HeaderIntegrationMetadata = "Klarna-Integration-Metadata"
	HeaderCorrelationID       = "Klarna-Correlation-Id"
)

// Defaults of RetryPolicy. With them a call, retries included, ends within 20 seconds: the
// longest a Partner waits for the acquirer's answer on Klarna's account.
const (
	DefaultMaxAttempts    = 5
	DefaultInitialBackoff = 100 * time.Millisecond
	DefaultMaxBackoff     = 2 * time.Second
	DefaultDeadline       = 20 * time.Second
	DefaultAttemptTimeout = 10 * time.Second
	DefaultMaxRetryAfter  = 5 * time.Second
)

// maxResponseBytes bounds how much of an answer is read; Klarna's answers are a few KB.
const maxResponseBytes = 4 << 20

// RetryPolicy bounds how a call is retried. Zero fields take the defaults.
type RetryPolicy struct {
	// MaxAttempts is the most attempts one call makes, the first included.
	MaxAttempts int
	// InitialBackoff is the ceiling of the first wait; each retry doubles it up to MaxBackoff.
	// The actual wait is random below the ceiling (full jitter), so clients that failed
	// together do not retry together.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// Deadline bounds a call with all its retries and waits, so a caller waiting on it (a
	// Partner, a webhook delivery) gets an answer in time: the call ends by then, the attempt
	// under way included.
	Deadline time.Duration
	// AttemptTimeout bounds one attempt; an attempt that runs out of it is retried like a
	// dropped connection.
	AttemptTimeout time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits for. Klarna asking for longer
	// (or for longer than the Deadline leaves) ends the call at once, with the wait in
	// UnavailableError.RetryAfter for the caller to pass on.
	MaxRetryAfter time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	p.MaxAttempts = backoff.OrDefault(p.MaxAttempts, DefaultMaxAttempts)
	p.InitialBackoff = backoff.OrDefault(p.InitialBackoff, DefaultInitialBackoff)
	p.MaxBackoff = backoff.OrDefault(p.MaxBackoff, DefaultMaxBackoff)
	p.Deadline = backoff.OrDefault(p.Deadline, DefaultDeadline)
	p.AttemptTimeout = backoff.OrDefault(p.AttemptTimeout, DefaultAttemptTimeout)
	p.MaxRetryAfter = backoff.OrDefault(p.MaxRetryAfter, DefaultMaxRetryAfter)
	return p
}

// Integrator identifies the integration to Klarna in Klarna-Integration-Metadata, so Klarna can
// tell which Acquiring Partner module made a call.
type Integrator struct {
	Name          string `json:"name"`
	ModuleName    string `json:"module_name,omitempty"`
	ModuleVersion string `json:"module_version,omitempty"`
}

// Config configures a Client.
type Config struct {
	// BaseURL is Klarna's API host: https://api-global.test.klarna.com, https://api-global.klarna.com,
	// or a klarna-mock such as http://127.0.0.1:8480.
	BaseURL string
	// APIKey is sent as "Authorization: Basic <APIKey>", as Klarna documents it.
	APIKey string
	// AccountID is the partner account calls act on when they name none.
	AccountID string
	// HTTPClient sends the requests; nil means a plain http.Client (attempts are bounded by
	// RetryPolicy.AttemptTimeout).
	HTTPClient *http.Client
	Retry      RetryPolicy
	// Integrator, if its Name is set, is sent in Klarna-Integration-Metadata.
	Integrator Integrator
	// Logger receives retries at warn level and every attempt at debug level; nil discards.
	Logger *slog.Logger
}

// Client calls Klarna's APIs. It is safe for concurrent use.
type Client struct {
	base      string
	apiKey    string
	accountID string
	http      *http.Client
	retry     RetryPolicy
	metadata  string
	log       *slog.Logger
}

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("klarna: base URL %q is not an http(s) URL", cfg.BaseURL)
	}
	if cfg.APIKey == "" {
		return nil, errors.New("klarna: an API key is required")
	}
	c := &Client{
		base:      strings.TrimRight(cfg.BaseURL, "/"),
		apiKey:    cfg.APIKey,
		accountID: cfg.AccountID,
		http:      cmp.Or(cfg.HTTPClient, &http.Client{}),
		retry:     cfg.Retry.withDefaults(),
		log:       cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)),
	}
	if cfg.Integrator.Name != "" {
		b, err := json.Marshal(struct {
			Integrator  Integrator `json:"integrator"`
			Originators []string   `json:"originators"`
		}{cfg.Integrator, []string{}})
		if err != nil {
			return nil, err
		}
		c.metadata = string(b)
	}
	return c, nil
}

// NewIdempotencyKey returns a fresh key for a new logical operation.
func NewIdempotencyKey() string { return uuid.NewString() }

// NewCorrelationID returns a fresh Partner-Correlation-Id (Klarna allows letters and digits).
func NewCorrelationID() string { return strings.ReplaceAll(uuid.NewString(), "-", "") }

// call is one logical operation: sent once, then retried as the policy allows.
type call struct {
	method string
	path   string
	query  url.Values
	header http.Header
	body   any
	// idempotencyKey is sent on POSTs and PATCHes and reused by every attempt.
	idempotencyKey string
	correlationID  string
	out            any
}

// keyed reports whether a method changes something at Klarna, and so needs a
// Klarna-Idempotency-Key (accepted on every POST and PATCH, docs/klarna.md §1) to be repeated
// safely.
func keyed(method string) bool { return method == http.MethodPost || method == http.MethodPatch }

// do carries out a call with retries. A Klarna error answer is an *Error; a call that failed for
// temporary reasons only and was given up is an *UnavailableError wrapping the last failure.
func (c *Client) do(parent context.Context, cl call) error {
	var body []byte
	if cl.body != nil {
		var err error
		if body, err = json.Marshal(cl.body); err != nil {
			return fmt.Errorf("klarna: encoding %s %s: %w", cl.method, cl.path, err)
		}
	}
	if keyed(cl.method) && cl.idempotencyKey == "" {
		cl.idempotencyKey = NewIdempotencyKey()
	}
	if cl.correlationID == "" {
		cl.correlationID = NewCorrelationID()
	}
	ctx, cancel := context.WithTimeout(parent, c.retry.Deadline)
	defer cancel()
	deadline, _ := ctx.Deadline() // the caller's own deadline, if it is earlier

	for attempt := 1; ; attempt++ {
		retryAfter, err := c.attempt(ctx, cl, body)
		if err == nil {
			return nil
		}
		if parent.Err() != nil || !temporary(err) {
			// The caller gave up, or Klarna gave a permanent answer: retrying cannot help.
			return err
		}
		giveUp := func(reason string) error {
			return &UnavailableError{Method: cl.method, Path: cl.path, Attempts: attempt, Timeout: timedOut(err),
				RetryAfter: retryAfter, Reason: reason, Err: err}
		}
		wait := max(backoff.Jittered(c.retry.InitialBackoff, c.retry.MaxBackoff, attempt), retryAfter)
		// Repeating the call is safe: a read does nothing twice, and every POST and PATCH carries
		// its key, under which Klarna answers a repeat with its first answer.
		switch {
		case attempt >= c.retry.MaxAttempts:
			return giveUp(fmt.Sprintf("all %d attempts failed", attempt))
		case retryAfter > c.retry.MaxRetryAfter:
			return giveUp(fmt.Sprintf("Klarna asked to wait %s, longer than the client waits", retryAfter))
		case time.Until(deadline) < wait:
			return giveUp(fmt.Sprintf("no time left for another attempt within the %s deadline", c.retry.Deadline))
		}
		c.log.Warn("klarna call failed, retrying", "method", cl.method, "path", cl.path, "attempt", attempt,
			"wait", wait, "retry_after", retryAfter, "err", err)
		if !backoff.Sleep(ctx, wait) {
			if parent.Err() != nil {
				return err
			}
			return giveUp("the deadline passed while waiting")
		}
	}
}

// temporary reports whether a failed attempt is worth repeating.
func temporary(err error) bool {
	var ke *Error
	if errors.As(err, &ke) {
		return ke.Temporary()
	}
	// Anything else is a transport failure (refused connection, reset, attempt timeout, an
	// answer cut off): the request may or may not have reached Klarna, which the idempotency key
	// makes harmless.
	return true
}

// timedOut reports whether a failed attempt got no answer in time.
func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// attempt sends the request once. It returns how long Klarna asked to wait (Retry-After) along
// with any error.
func (c *Client) attempt(ctx context.Context, cl call, body []byte) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.retry.AttemptTimeout)
	defer cancel()
	target := c.base + cl.path
	if len(cl.query) > 0 {
		target += "?" + cl.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, target, rd)
	if err != nil {
		return 0, err
	}
	for name, values := range cl.header {
		req.Header[name] = values
	}
	req.Header.Set("Authorization", "Basic "+c.apiKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set(HeaderPartnerCorrelation, cl.correlationID)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.idempotencyKey != "" {
		req.Header.Set(HeaderIdempotencyKey, cl.idempotencyKey)
	}
	if c.metadata != "" {
		req.Header.Set(HeaderIntegrationMetadata, c.metadata)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("klarna: %s %s: %w", cl.method, cl.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		// Typically the connection closed before the answer was complete.
		return 0, fmt.Errorf("klarna: reading %s %s: %w", cl.method, cl.path, err)
	}
	c.log.Debug("klarna call", "method", cl.method, "path", cl.path, "status", resp.StatusCode,
		"duration", time.Since(start), "klarna_correlation_id", resp.Header.Get(HeaderCorrelationID))
	if resp.StatusCode >= 300 {
		wait, _ := backoff.RetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return wait, decodeError(resp, raw)
	}
	if cl.out == nil || len(raw) == 0 {
		return 0, nil
	}
	if err := json.Unmarshal(raw, cl.out); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			// Not JSON at all, most likely an answer cut off on the way: the call is repeated, and
			// Klarna answers a repeat under the same idempotency key as it did the first time.
			return 0, fmt.Errorf("klarna: %s %s answered %d with a damaged body (%d bytes): %w", cl.method, cl.path, resp.StatusCode, len(raw), err)
		}
		return 0, &Error{StatusCode: resp.StatusCode, CorrelationID: resp.Header.Get(HeaderCorrelationID),
			ErrorCode: "UNEXPECTED_RESPONSE", ErrorMessage: "the answer is not the expected JSON: " + err.Error()}
	}
	return 0, nil
}

// decodeError turns an error answer into an *Error, keeping the status when the body is not
// Klarna-shaped (a proxy's HTML page, say).
func decodeError(resp *http.Response, raw []byte) *Error {
	e := &Error{}
	if json.Unmarshal(raw, e) != nil || e.ErrorCode == "" {
		snippet := strings.TrimSpace(string(raw))
		if len(snippet) > 200 {
			snippet = snippet[:200]
		}
		e = &Error{ErrorCode: http.StatusText(resp.StatusCode), ErrorMessage: snippet}
	}
	e.StatusCode = resp.StatusCode
	e.CorrelationID = resp.Header.Get(HeaderCorrelationID)
	return e
}

// accountPath returns the path of an account-scoped endpoint.
func (c *Client) accountPath(accountID, rest string) string {
	if accountID == "" {
		accountID = c.accountID
	}
	return "/v2/accounts/" + url.PathEscape(accountID) + rest
}
