// Package mockclock tells the time by a klarna-mock's clock, for the reference acquirer in test
// mode.
//
// The acquirer checks one of Klarna's windows itself: the final authorize must come within 60
// minutes of the completed Purchase Journey (docs/klarna.md §6). A klarna-mock can move its
// clock forward, so that a test walks that window (or a 3-hour expiry) in milliseconds, and each
// tenant of a shared mock has a clock of its own. An acquirer telling the time by its real clock
// would then disagree with Klarna about the window. A Clock follows the clock of the acquirer's
// own tenant instead: it reads GET /mock/v1/clock with the acquirer's API key.
//
// It talks to the mock over HTTP only, like the rest of reference-impl: nothing here imports the
// mock.
package mockclock

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultTTL is how long the acquirer's test mode reuses a reading of the mock's clock: long
// enough that a burst of calls costs one read, short enough that a move of the clock is seen
// within a second.
const DefaultTTL = time.Second

// clockPath is the mock's endpoint that answers the caller's tenant clock.
const clockPath = "/mock/v1/clock"

// Config says which clock to follow.
type Config struct {
	// BaseURL is the klarna-mock's base URL: the acquirer's Klarna base URL.
	BaseURL string
	// APIKey is the acquirer's Klarna API key, sent as "Authorization: Basic <APIKey>": the clock
	// read is the clock of its tenant.
	APIKey string
	// HTTPClient sends the reads; nil means a client with a 2-second timeout.
	HTTPClient *http.Client
	// TTL is how long a reading is reused, time running on from it at the local clock's pace;
	// 0 reads the mock at every call, so that a move of its clock is seen at once.
	TTL time.Duration
	// Logger receives a warning when the mock's clock cannot be read; nil discards.
	Logger *slog.Logger
}

// Clock is the clock of a klarna-mock tenant, seen from outside. It is safe for concurrent use.
type Clock struct {
	url, key string
	http     *http.Client
	ttl      time.Duration
	log      *slog.Logger

	// mu is held while the mock is read, so that concurrent callers wait for one reading
	// instead of each sending their own.
	mu sync.Mutex
	// offset is the mock's time minus the local time, as of the last reading.
	offset time.Duration
	// triedAt is the local time of the last attempt to read; zero before the first.
	triedAt time.Time
	// failing reports that the last attempt failed, so a failure is logged once, not per call.
	failing bool
	// local is set for good once the base URL turned out not to be a klarna-mock.
	local bool
}

// New returns a Clock following the mock at cfg.BaseURL. It reads nothing yet.
func New(cfg Config) *Clock {
	return &Clock{
		url:  strings.TrimRight(cfg.BaseURL, "/") + clockPath,
		key:  cfg.APIKey,
		http: cmp.Or(cfg.HTTPClient, &http.Client{Timeout: 2 * time.Second}),
		ttl:  cfg.TTL,
		log:  cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)),
	}
}

// errNotAMock is a base URL without the mock's clock endpoint (404): real Klarna.
var errNotAMock = errors.New("no klarna-mock clock there")

// Now returns the tenant's time: the local time plus the offset of the last reading, read anew
// once the reading is older than the TTL. When the mock cannot be read, the last offset stays
// (none before a first reading), and the mock is tried again after the TTL. A base URL that
// answers 404 is not a klarna-mock (real Klarna's test environment, say): from then on Now is
// the local time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.local && (c.triedAt.IsZero() || time.Since(c.triedAt) >= c.ttl) {
		c.refresh()
	}
	return time.Now().Add(c.offset)
}

// Expire drops the current reading, so that the next Now reads the mock again. Call it when the
// mock's clock may just have moved: a Klarna webhook is often sent by a move of it (the move
// fires the expiries and retries that send webhooks), and what the webhook makes the acquirer
// decide must be decided on the moved clock.
func (c *Clock) Expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.triedAt = time.Time{}
}

// refresh reads the mock's clock; the caller holds mu.
func (c *Clock) refresh() {
	sent := time.Now()
	mockNow, err := c.read()
	c.triedAt = time.Now()
	switch {
	case errors.Is(err, errNotAMock):
		c.local, c.offset = true, 0
		c.log.Warn("the Klarna base URL has no klarna-mock clock: telling the time by the local clock", "url", c.url)
	case err != nil:
		if !c.failing {
			c.log.Warn("cannot read the klarna-mock clock: keeping the last offset", "err", err, "offset", c.offset)
		}
		c.failing = true
	default:
		// The mock read its clock somewhere during the round trip: take the middle.
		c.offset = mockNow.Sub(sent.Add(c.triedAt.Sub(sent) / 2))
		c.failing = false
	}
}

// read asks the mock for the tenant's time.
func (c *Clock) read() (time.Time, error) {
	req, err := http.NewRequest(http.MethodGet, c.url, nil)
	if err != nil {
		return time.Time{}, err
	}
	req.Header.Set("Authorization", "Basic "+c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return time.Time{}, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return time.Time{}, errNotAMock
	default:
		return time.Time{}, fmt.Errorf("GET %s answered %d: %s", c.url, resp.StatusCode, raw)
	}
	var out struct {
		Now time.Time `json:"now"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Now.IsZero() {
		return time.Time{}, fmt.Errorf("GET %s answered no time: %s", c.url, raw)
	}
	return out.Now, nil
}
