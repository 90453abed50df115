package example_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"testing"

	"github.com/cucumber/godog"

	"github.com/klarna-mock/klarna-mock/features"
	"github.com/klarna-mock/klarna-mock/features/steps"
)

// ourFeature is a scenario of the team's own, built from the suite's steps plus four of its own.
const ourFeature = `Feature: Our Acquiring Partner's additions
  Scenario: A one-click purchase is traceable end to end
    Given a Partner selling through the Acquiring Partner
    And the customer saved Klarna for on-demand use
    When the Partner charges the customer's token for 45.00 EUR with the customer present
    Then the charge is approved at once
    And every answer of the Acquiring Partner carries an AP-Request-Id
    And the Partner reads the same charge back from the Acquiring Partner
    And Klarna holds the charge's payment transaction, authorized for 45.00 EUR
    And every call the Acquiring Partner sent Klarna carries a Partner-Correlation-Id
`

// ourSteps binds the team's own steps. Each reaches the scenario's state with steps.Must.
func ourSteps(sc *godog.ScenarioContext) {
	sc.Then(`^every answer of the Acquiring Partner carries an AP-Request-Id$`, everyAnswerHasRequestID)
	sc.Then(`^the Partner reads the same charge back from the Acquiring Partner$`, readsChargeBack)
	sc.Then(`^Klarna holds the charge's payment transaction, authorized for (\d+)\.(\d{2}) ([A-Z]{3})$`, klarnaHoldsTransaction)
	sc.Then(`^every call the Acquiring Partner sent Klarna carries a Partner-Correlation-Id$`, everyKlarnaCallCorrelated)
}

// everyAnswerHasRequestID looks at every answer the Partner got so far (World.Answers).
func everyAnswerHasRequestID(ctx context.Context) error {
	w, err := steps.Must(ctx)
	if err != nil {
		return err
	}
	answers := w.Answers()
	if len(answers) == 0 {
		return errors.New("the Partner got no answer from the Acquiring Partner")
	}
	for _, a := range answers {
		if a.Header.Get("AP-Request-Id") == "" {
			return fmt.Errorf("the answer to %s %s (%d) has no AP-Request-Id", a.Method, a.Path, a.Status)
		}
	}
	return nil
}

// charge is what the team's steps read of a charge.
type charge struct {
	ID                   string `json:"id"`
	PaymentTransactionID string `json:"payment_transaction_id"`
}

// lastCharge decodes the Acquiring Partner's last answer (World.LastAnswer) as a charge.
func lastCharge(w *steps.World) (charge, error) {
	var c charge
	a, ok := w.LastAnswer()
	if !ok {
		return c, errors.New("the Partner has called nothing yet")
	}
	if err := json.Unmarshal(a.Body, &c); err != nil || c.ID == "" {
		return c, fmt.Errorf("the answer to %s %s is not a charge: %s", a.Method, a.Path, a.Body)
	}
	return c, nil
}

// withCharge returns the scenario's World and the charge of the Acquiring Partner's last answer.
func withCharge(ctx context.Context) (*steps.World, charge, error) {
	w, err := steps.Must(ctx)
	if err != nil {
		return nil, charge{}, err
	}
	c, err := lastCharge(w)
	return w, c, err
}

// readsChargeBack calls the Acquiring Partner as the scenario's Partner (World.CallAcquirer).
func readsChargeBack(ctx context.Context) error {
	w, created, err := withCharge(ctx)
	if err != nil {
		return err
	}
	a, err := w.CallAcquirer(ctx, http.MethodGet, "/v1/charges/"+url.PathEscape(created.ID), nil, nil)
	if err != nil {
		return err
	}
	if a.Status != http.StatusOK || a.Problem != "" {
		return fmt.Errorf("reading charge %s back: %d %s %s", created.ID, a.Status, a.Problem, a.Body)
	}
	read, err := lastCharge(w)
	if err != nil {
		return err
	}
	if read != created {
		return fmt.Errorf("charge %s reads back as %+v, was created as %+v", created.ID, read, created)
	}
	return nil
}

// klarnaHoldsTransaction asks Klarna's API what the Acquiring Partner sees, with the mock's
// client (World.Klarna) and the Acquiring Partner's credentials (World.KlarnaCredentials).
func klarnaHoldsTransaction(ctx context.Context, units, cents, currency string) error {
	w, c, err := withCharge(ctx)
	if err != nil {
		return err
	}
	key, account := w.KlarnaCredentials()
	var tr struct {
		Amount   int64  `json:"amount"`
		Currency string `json:"currency"`
		State    string `json:"state"`
	}
	path := "/v2/accounts/" + url.PathEscape(account) + "/payment/transactions/" + url.PathEscape(c.PaymentTransactionID)
	if err := w.Klarna().Do(http.MethodGet, path, key, nil, &tr); err != nil {
		return err
	}
	if want := units + cents; fmt.Sprint(tr.Amount) != want || tr.Currency != currency || tr.State != "AUTHORIZED" {
		return fmt.Errorf("Klarna holds payment transaction %s as %d %s %s; want %s %s AUTHORIZED", c.PaymentTransactionID, tr.Amount, tr.Currency, tr.State, want, currency)
	}
	return nil
}

// everyKlarnaCallCorrelated reads what the Acquiring Partner sent Klarna (World.Journal).
func everyKlarnaCallCorrelated(ctx context.Context) error {
	w, err := steps.Must(ctx)
	if err != nil {
		return err
	}
	entries, err := w.Journal()
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return errors.New("the Acquiring Partner sent Klarna nothing")
	}
	for _, e := range entries {
		if e.Headers["Partner-Correlation-Id"] == "" {
			return fmt.Errorf("%s %s (#%d) carries no Partner-Correlation-Id", e.Method, e.Path, e.Seq)
		}
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
			ourSteps(sc)
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
			FS: features.Files, Paths: []string{"."}, Tags: "@subscription", Concurrency: s.Concurrency(4),
		},
	}.Run()
	fmt.Println("contract scenarios passed:", status == 0)
}
