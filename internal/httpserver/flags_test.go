package httpserver_test

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/cli"
	"github.com/klarna-mock/klarna-mock/internal/httpserver"
)

// parse registers the timeout flags with env as the environment and parses args.
func parse(env map[string]string, args ...string) (*httpserver.Timeouts, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("cmd", flag.ContinueOnError)
	timeouts, err := httpserver.Flags(fs, func(k string) string { return env[k] }, "CMD")
	if err != nil {
		return nil, fs, err
	}
	_, err = cli.Parse(fs, args, io.Discard, func(io.Writer) {})
	return timeouts, fs, err
}

func TestFlagsDefaultToTheEnvironmentThenTheDefaults(t *testing.T) {
	t.Parallel()
	timeouts, _, err := parse(nil)
	require.NoError(t, err)
	require.Equal(t, httpserver.Timeouts{
		ReadHeader: httpserver.DefaultReadHeaderTimeout,
		Read:       httpserver.DefaultReadTimeout,
		Write:      httpserver.DefaultWriteTimeout,
		Idle:       httpserver.DefaultIdleTimeout,
	}, *timeouts)

	env := map[string]string{
		"CMD_READ_HEADER_TIMEOUT": "1s",
		"CMD_READ_TIMEOUT":        "2s",
		"CMD_WRITE_TIMEOUT":       "3s",
		"CMD_IDLE_TIMEOUT":        "4s",
	}
	timeouts, _, err = parse(env, "--read-timeout", "5m", "-idle-timeout=250ms")
	require.NoError(t, err)
	require.Equal(t, httpserver.Timeouts{ReadHeader: time.Second, Read: 5 * time.Minute, Write: 3 * time.Second, Idle: 250 * time.Millisecond}, *timeouts,
		"a flag wins over its environment variable")
}

func TestFlagsRefuseWhatIsNoPositiveDuration(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"0", "0s", "-1s", "30", "soon"} {
		_, _, err := parse(nil, "--write-timeout", bad)
		require.ErrorIs(t, err, cli.ErrUsage, bad)
		require.ErrorContains(t, err, "-write-timeout", bad)

		_, _, err = parse(map[string]string{"CMD_IDLE_TIMEOUT": bad})
		require.ErrorIs(t, err, cli.ErrUsage, bad)
		require.ErrorContains(t, err, `CMD_IDLE_TIMEOUT="`+bad+`"`)
	}
}

func TestFlagsHelpNamesTheEnvironmentAndTheDefault(t *testing.T) {
	t.Parallel()
	_, fs, err := parse(map[string]string{"CMD_READ_TIMEOUT": "45s"})
	require.NoError(t, err)
	var help strings.Builder
	cli.PrintFlags(&help, fs)
	require.Contains(t, help.String(), "-read-timeout duration\n")
	require.Contains(t, help.String(), "(env CMD_READ_TIMEOUT) (default 45s)")
	require.Contains(t, help.String(), "(env CMD_READ_HEADER_TIMEOUT) (default 10s)")
	require.Contains(t, help.String(), "(env CMD_WRITE_TIMEOUT) (default 1m0s)")
	require.Contains(t, help.String(), "(env CMD_IDLE_TIMEOUT) (default 2m0s)")
}
