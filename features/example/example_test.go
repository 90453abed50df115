package example_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/cucumber/godog"

	"github.com/klarna-mock/klarna-mock/features"
	"github.com/klarna-mock/klarna-mock/features/steps"
)

// ourFeature is a scenario of the team's own, built from the suite's steps plus one of its own.
const ourFeature = `Feature: Our Acquiring Partner's additions
  Scenario: A one-click purchase answer carries our request id
    Given a Partner selling through the Acquiring Partner
    And the customer saved Klarna for on-demand use
    When the Partner charges the customer's token for 45.00 EUR with the customer present
    Then the charge is approved at once
    And the Acquiring Partner's answer carries an AP-Request-Id
`

// answerCarriesRequestID is a step of the team's own: it reaches the scenario's state through
// steps.Must.
func answerCarriesRequestID(ctx context.Context) error {
	w, err := steps.Must(ctx)
	if err != nil {
		return err
	}
	status, header, _ := w.LastAnswer()
	if header.Get("AP-Request-Id") == "" {
		return fmt.Errorf("the answer (%d) has no AP-Request-Id", status)
	}
	return nil
}

// TestOurAdditions runs the team's own scenario. steps.Config{} starts the reference Acquiring
// Partner and a klarna-mock in process; a team sets AcquirerURL and KlarnaMockURL (or reads
// them with steps.ConfigFromEnv, as Example_contractScenarios does) to test its own.
func TestOurAdditions(t *testing.T) {
	t.Parallel()
	s, err := steps.New(steps.Config{})
	if err != nil {
		t.Fatal(err)
	}
	status := godog.TestSuite{
		TestSuiteInitializer: s.InitializeTestSuite,
		ScenarioInitializer: func(sc *godog.ScenarioContext) {
			s.InitializeScenario(sc)
			sc.Then(`^the Acquiring Partner's answer carries an AP-Request-Id$`, answerCarriesRequestID)
		},
		Options: &godog.Options{
			Format: "pretty", Output: io.Discard, Strict: true, TestingT: t,
			FeatureContents: []godog.Feature{{Name: "our_additions.feature", Contents: []byte(ourFeature)}},
		},
	}.Run()
	if status != 0 {
		t.Fatal("our scenario failed")
	}
}

// Example_contractScenarios runs the suite's own scenarios about subscriptions against an
// Acquiring Partner of your own, from your module:
//
//	ACQUIRER_URL=http://127.0.0.1:8490 KLARNA_MOCK_URL=http://127.0.0.1:8480 go test ./...
func Example_contractScenarios() {
	cfg, err := steps.ConfigFromEnv(os.Getenv)
	if err != nil {
		panic(err)
	}
	s, err := steps.New(cfg)
	if err != nil {
		panic(err)
	}
	status := godog.TestSuite{
		TestSuiteInitializer: s.InitializeTestSuite,
		ScenarioInitializer:  s.InitializeScenario,
		Options: &godog.Options{
			Format: "progress", Output: os.Stdout, Strict: true,
			FS: features.Files, Paths: []string{"."}, Tags: s.Tags("@subscription"), Concurrency: s.Concurrency(4),
		},
	}.Run()
	fmt.Println("contract scenarios passed:", status == 0)
}
