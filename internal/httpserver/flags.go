package httpserver

import (
	"errors"
	"flag"
	"strings"
	"time"

	"github.com/klarna-mock/klarna-mock/internal/cli"
)

// Flags registers on fs one flag per timeout, -read-header-timeout, -read-timeout,
// -write-timeout and -idle-timeout, and returns the Timeouts that parsing fs fills in. Each
// flag's default is its environment variable, envPrefix and the flag's name in capitals
// (KLARNA_MOCK_READ_TIMEOUT for envPrefix "KLARNA_MOCK"), else the package's default. A value
// that is not a positive duration is a usage error: zero would turn the timeout off.
func Flags(fs *flag.FlagSet, getenv func(string) string, envPrefix string) (*Timeouts, error) {
	t := &Timeouts{}
	for _, f := range []struct {
		name, usage string
		value       *time.Duration
		def         time.Duration
	}{
		{"read-header-timeout", "longest `duration` a client may take to send a request's headers", &t.ReadHeader, DefaultReadHeaderTimeout},
		{"read-timeout", "longest `duration` a client may take to send a whole request, body included", &t.Read, DefaultReadTimeout},
		{"write-timeout", "longest `duration` from the end of a request's headers to the end of its answer", &t.Write, DefaultWriteTimeout},
		{"idle-timeout", "longest `duration` a keep-alive connection waits for its next request", &t.Idle, DefaultIdleTimeout},
	} {
		env := envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(f.name, "-", "_"))
		*f.value = f.def
		v := (*duration)(f.value)
		if s := getenv(env); s != "" {
			if err := v.Set(s); err != nil {
				return nil, cli.Usagef("%s=%q: %v", env, s, err)
			}
		}
		fs.Var(v, f.name, f.usage+" (env "+env+")")
	}
	return t, nil
}

// duration is a flag.Value holding a positive time.Duration.
type duration time.Duration

func (d *duration) String() string {
	if d == nil { // the flag package may ask a zero Value
		return "0s"
	}
	return time.Duration(*d).String()
}

func (d *duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return errors.New("not a duration such as 30s or 2m")
	case v <= 0:
		return errors.New("not positive")
	}
	*d = duration(v)
	return nil
}
