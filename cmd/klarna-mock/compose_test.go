package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestComposeFlagsExist reads docker-compose.yaml and checks each flag it passes: the mock's
// against klarna-mock --help, the acquirer's against the flags cmd/acquirer defines.
func TestComposeFlagsExist(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docker-compose.yaml"))
	require.NoError(t, err)
	var compose struct {
		Services map[string]struct {
			Command []string `yaml:"command"`
		} `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &compose))

	var help strings.Builder
	require.NoError(t, run(context.Background(), []string{"--help"}, env(nil), &help, &help))
	mockFlags := compose.Services["mock"].Command
	require.NotEmpty(t, mockFlags)
	for _, name := range flagNames(t, mockFlags) {
		require.Contains(t, help.String(), "-"+name+" ", "klarna-mock has no flag --%s", name)
	}

	source, err := os.ReadFile(filepath.Join("..", "acquirer", "main.go"))
	require.NoError(t, err)
	acquirer := compose.Services["acquirer"].Command
	require.Greater(t, len(acquirer), 3)
	require.Equal(t, []string{"go", "run", "./cmd/acquirer"}, acquirer[:3])
	for _, name := range flagNames(t, acquirer[3:]) {
		defined := regexp.MustCompile(`fs\.\w+\([^,]+, "` + regexp.QuoteMeta(name) + `",`)
		require.Regexp(t, defined, string(source), "the acquirer has no flag --%s", name)
	}
}

// flagNames returns the names of --name=value arguments.
func flagNames(t *testing.T, args []string) []string {
	t.Helper()
	var names []string
	for _, a := range args {
		name, _, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		require.True(t, ok && strings.HasPrefix(a, "--"), "%q: give flags as --name=value", a)
		names = append(names, name)
	}
	return names
}
