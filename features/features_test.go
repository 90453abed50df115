package features_test

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cucumber/godog"
	"github.com/cucumber/godog/colors"

	"github.com/klarna-mock/klarna-mock/features"
	"github.com/klarna-mock/klarna-mock/features/steps"
)

// Flags of the suite; each has an environment variable of the same meaning, for CI.
var (
	godogFormat = flag.String("godog.format", "",
		"extra godog formatters besides pretty output, e.g. junit:report.xml,cucumber:report.json (paths relative to features/) (env GODOG_FORMAT)")
	godogTags        = flag.String("godog.tags", "", "run only scenarios matching this tag filter, e.g. '@token-creation && ~@clock' (env GODOG_TAGS)")
	godogConcurrency = flag.Int("godog.concurrency", 0, "scenarios run at once (env GODOG_CONCURRENCY; default GOMAXPROCS, at most 8; 1 against a shared klarna-mock)")
	godogRandom      = flag.String("godog.random", "", "scenario order: a seed to replay, 0 for file order, empty for a fresh random seed (env GODOG_RANDOM)")
)

func setting(flagValue, env string) string {
	if flagValue != "" {
		return flagValue
	}
	return os.Getenv(env)
}

// suiteOptions returns the godog options of the run: strict (undefined or pending steps fail),
// random order, concurrent, pretty output plus any formatter asked for.
func suiteOptions(t *testing.T, s *steps.Suite) *godog.Options {
	t.Helper()
	format := "pretty"
	if extra := setting(*godogFormat, "GODOG_FORMAT"); extra != "" {
		format = extra
		// Pretty output stays unless a formatter asked for writes to stdout itself.
		toFiles := true
		for _, f := range strings.Split(extra, ",") {
			toFiles = toFiles && strings.Contains(f, ":")
		}
		if toFiles {
			format = "pretty," + extra
		}
	}
	concurrency := min(runtime.GOMAXPROCS(0), 8)
	if v := os.Getenv("GODOG_CONCURRENCY"); v != "" && *godogConcurrency == 0 {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("GODOG_CONCURRENCY=%q is not a number", v)
		}
		concurrency = n
	}
	if *godogConcurrency > 0 {
		concurrency = *godogConcurrency
	}
	seed := int64(-1)
	if v := setting(*godogRandom, "GODOG_RANDOM"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("the random seed %q is not a number", v)
		}
		seed = n
	}
	return &godog.Options{
		Format:      format,
		Output:      colors.Colored(os.Stdout),
		Tags:        setting(*godogTags, "GODOG_TAGS"),
		Concurrency: s.Concurrency(concurrency),
		Randomize:   seed,
		Strict:      true,
		FS:          features.Files,
		Paths:       []string{"."},
		TestingT:    t,
	}
}

// TestFeatures runs the contract suite: against the reference Acquiring Partner and a klarna-mock
// started in process for every scenario by default, or against the systems named in the
// environment (see steps.ConfigFromEnv and the README's "Contract suite").
func TestFeatures(t *testing.T) {
	t.Parallel()
	cfg, err := steps.ConfigFromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	s, err := steps.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	status := godog.TestSuite{
		Name:                 "acquirer-contract",
		TestSuiteInitializer: s.InitializeTestSuite,
		ScenarioInitializer:  s.InitializeScenario,
		Options:              suiteOptions(t, s),
	}.Run()
	if status != 0 {
		t.Fatalf("the contract suite failed (godog exit status %d)", status)
	}
}
