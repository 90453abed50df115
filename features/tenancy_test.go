package features_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/features"
	"github.com/klarna-mock/klarna-mock/features/steps"
	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
	"github.com/klarna-mock/klarna-mock/testkit"
)

// The suite on a klarna-mock shared with others: each scenario is a tenant of its own there, and
// its clock moves are its own.

// twoClocks is two scenarios that move their clocks at the same time, each by its own amount.
const twoClocks = `Feature: Two scenarios on one shared klarna-mock
  Background:
    Given a Partner selling through the Acquiring Partner
    And the Partner opened a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR, and Klarna asked for the Purchase Journey
    And the scenario noted Klarna's time
    And both scenarios reached point 1

  Scenario: One scenario lets three hours pass
    When 3 hours pass
    And both scenarios reached point 2
    Then Klarna's time is 180 minutes after the noted time
    And the Partner is told the payment expired

  Scenario: The other lets half an hour pass
    When 30 minutes pass
    And both scenarios reached point 2
    Then Klarna's time is 30 minutes after the noted time
    And the payment still waits for the customer
`

// rendezvous holds each of two scenarios at a numbered point until the other reaches it too.
type rendezvous struct {
	mu     sync.Mutex
	points map[string]*sync.WaitGroup
}

func (r *rendezvous) reach(point string) error {
	r.mu.Lock()
	wg, ok := r.points[point]
	if !ok {
		wg = &sync.WaitGroup{}
		wg.Add(2)
		r.points[point] = wg
	}
	r.mu.Unlock()
	wg.Done()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-time.After(20 * time.Second):
		return fmt.Errorf("the other scenario never reached point %s", point)
	}
}

// notedTime is the context key of the tenant's time a scenario noted.
type notedTime struct{}

// tenantNow reads the scenario's clock at the mock: its tenant's.
func tenantNow(ctx context.Context) (time.Time, error) {
	w, err := steps.Must(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return w.Klarna().Now()
}

func noteTime(ctx context.Context) (context.Context, error) {
	now, err := tenantNow(ctx)
	return context.WithValue(ctx, notedTime{}, now), err
}

func timeMoved(ctx context.Context, minutes int) error {
	now, err := tenantNow(ctx)
	if err != nil {
		return err
	}
	noted, _ := ctx.Value(notedTime{}).(time.Time)
	if got, want := now.Sub(noted), time.Duration(minutes)*time.Minute; got != want {
		return fmt.Errorf("Klarna's time for this scenario moved by %s, not by its own %s", got, want)
	}
	return nil
}

func TestScenariosOnASharedMockMoveOnlyTheirOwnClocks(t *testing.T) {
	t.Parallel()
	start := time.Now().UTC().Truncate(time.Second)
	shared := testkit.NewMock(t, testkit.WithManualClock(start))
	var report bytes.Buffer
	s, err := steps.New(steps.Config{KlarnaMockURL: shared.URL, WaitTimeout: 5 * time.Second, Report: &report})
	require.NoError(t, err)
	meet := &rendezvous{points: map[string]*sync.WaitGroup{}}
	var out bytes.Buffer
	status := godog.TestSuite{
		TestSuiteInitializer: s.InitializeTestSuite,
		ScenarioInitializer: func(sc *godog.ScenarioContext) {
			s.InitializeScenario(sc)
			sc.Given(`^the scenario noted Klarna's time$`, noteTime)
			sc.Step(`^both scenarios reached point (\d)$`, meet.reach)
			sc.Then(`^Klarna's time is (\d+) minutes after the noted time$`, timeMoved)
		},
		Options: &godog.Options{
			Format: "pretty", Output: &out, NoColors: true, Strict: true, Concurrency: s.Concurrency(2), Randomize: -1,
			FeatureContents: []godog.Feature{{Name: "two_clocks.feature", Contents: []byte(twoClocks)}},
		},
	}.Run()
	require.Zero(t, status, "%s", out.String())
	require.Empty(t, report.String(), "nothing was skipped")

	require.Equal(t, start, shared.Clock.Now(), "the scenarios left the mock's own clock where it was")
	now, err := shared.NowFor("klarna_test_api_someone_else")
	require.NoError(t, err)
	require.Equal(t, start, now, "and every other tenant's clock")
}

// TestScenariosOnASharedMockLeaveNoTenantBehind runs scenarios that leave live data at the mock
// (active customer tokens, the Acquiring Partner's signing key and webhook, deliveries) on a
// shared mock: each resets its tenant when it ends, so the mock serves as many tenants, and
// keeps as many clocks, afterwards as before, and the tenant that was there already is untouched.
func TestScenariosOnASharedMockLeaveNoTenantBehind(t *testing.T) {
	t.Parallel()
	start := time.Now().UTC().Truncate(time.Second)
	shared := testkit.NewMock(t, testkit.WithManualClock(start))
	someone := shared.ForKey("klarna_test_api_someone_else")
	_, err := someone.AdvanceClock(time.Hour)
	require.NoError(t, err)
	tenants, clocks := shared.App.Tenants(), shared.Clock.Tenants()

	s, err := steps.New(steps.Config{KlarnaMockURL: shared.URL, WaitTimeout: 5 * time.Second, Report: io.Discard})
	require.NoError(t, err)
	var out bytes.Buffer
	require.Zero(t, runFeatures(s, "@token-creation,@subscription", &out), "%s", out.String())

	require.Equal(t, tenants, shared.App.Tenants(), "every scenario's tenant was reset")
	require.Equal(t, clocks, shared.Clock.Tenants(), "and its clock forgotten")
	now, err := someone.Now()
	require.NoError(t, err)
	require.Equal(t, start.Add(time.Hour), now, "the other tenant keeps its clock")
}

// runFeatures runs the scenarios of the feature files that match tags with s, up to four at
// once as s allows, in file order, writing godog's pretty output to out, and returns godog's
// status.
func runFeatures(s *steps.Suite, tags string, out io.Writer) int {
	return godog.TestSuite{
		TestSuiteInitializer: s.InitializeTestSuite,
		ScenarioInitializer:  s.InitializeScenario,
		Options: &godog.Options{
			Format: "pretty", Output: out, NoColors: true, Strict: true, Concurrency: s.Concurrency(4), Randomize: -1,
			FS: features.Files, Paths: []string{"."}, Tags: tags,
		},
	}.Run()
}

// interceptionScenarios returns "file: scenario name" of every scenario tagged @interception.
func interceptionScenarios(t *testing.T) []string {
	t.Helper()
	var found []string
	err := fs.WalkDir(features.Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := features.Files.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		tagged := false
		for sc := bufio.NewScanner(f); sc.Scan(); {
			line := strings.TrimSpace(sc.Text())
			switch {
			case strings.HasPrefix(line, "@"):
				tagged = strings.Contains(" "+line+" ", " @interception ")
			case strings.HasPrefix(line, "Scenario:") && tagged:
				found = append(found, path+": "+strings.TrimSpace(strings.TrimPrefix(line, "Scenario:")))
				tagged = false
			}
		}
		return nil
	})
	require.NoError(t, err)
	return found
}

// freeAddr returns a loopback address with a port free a moment ago. The suite listens itself on
// the Partner webhook URL it is given, and the Acquiring Partner must know that URL first.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestScenariosAnExternalAcquirerCannotRunAreReported(t *testing.T) {
	t.Parallel()
	mock := testkit.NewMock(t)
	// The pretty output and the report of skipped scenarios in one place, as on a terminal. The
	// scenarios are one tenant and run one at a time, so godog writes from one goroutine.
	var out bytes.Buffer
	cfg := externalAcquirer(t, mock, klarna.RetryPolicy{}, &out)
	klarnaKey := cfg.KlarnaAPIKey
	s, err := steps.New(cfg)
	require.NoError(t, err)
	status := runFeatures(s, "@interception,@expiry,@subscription && @approved", &out)
	got := out.String()
	require.Zero(t, status, "skipped scenarios are no failure, and the rest pass: %s", got)

	want := interceptionScenarios(t)
	require.Len(t, want, 6)
	require.Contains(t, got, fmt.Sprintf("%d scenarios skipped: this setup cannot run them", len(want)))
	for _, sc := range want {
		require.Contains(t, got, sc+"\n      skipped: @interception: the scenario stands between Klarna and the Acquiring Partner",
			"the skipped scenario is named with the reason")
	}
	require.Contains(t, got, "not for the one at ACQUIRER_URL")

	// The @expiry scenarios moved the Acquiring Partner's tenant clock, and no other.
	acquirers, err := mock.NowFor(klarnaKey)
	require.NoError(t, err)
	require.Greater(t, time.Until(acquirers), 5*time.Hour, "two scenarios let 3 hours pass each")
	others, err := mock.NowFor("klarna_test_api_someone_else")
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), others, time.Minute)
}
