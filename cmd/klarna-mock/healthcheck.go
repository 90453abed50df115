package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/klarna-mock/klarna-mock/internal/cli"
)

// envAddr is the environment variable of the listen address, which serve reads for --addr and
// healthcheck for where to find the mock; the Dockerfile sets it.
const envAddr = "KLARNA_MOCK_ADDR"

// defaultAddr is where the mock listens unless told otherwise.
const defaultAddr = "127.0.0.1:8480"

// healthcheckTimeout is how long healthcheck waits by default: less than the Dockerfile's
// HEALTHCHECK --timeout, so that the check reports why it failed rather than being killed.
const healthcheckTimeout = 2 * time.Second

// maxHealthAnswer is the most of the answer healthcheck prints: Docker keeps only the last
// 4096 bytes of a check's output, and /readyz answers in far fewer.
const maxHealthAnswer = 4096

// healthcheckCommand checks that a mock is ready to serve: klarna-mock healthcheck [--url URL].
// The image of the Dockerfile has no shell and no curl, so its HEALTHCHECK runs the mock's own
// binary.
func healthcheckCommand() command {
	return command{
		name:    "healthcheck",
		summary: "check that a mock is ready (GET /readyz): exit 0 if it answers 200, 1 if not, for a container's HEALTHCHECK",
		runs:    healthcheck,
	}
}

// healthcheck GETs the readiness URL and prints the answer; any answer but a 200, or none in
// time, is an error, so the command exits 1.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("klarna-mock healthcheck", flag.ContinueOnError)
	target := fs.String("url", "", "the URL to GET; default: /readyz of the mock at "+envAddr+" (default "+defaultAddr+"), on the loopback address when it names every interface (0.0.0.0 or ::)")
	timeout := fs.Duration("timeout", healthcheckTimeout, "how long to wait for the answer")
	help := func(w io.Writer) {
		fmt.Fprint(w, "klarna-mock healthcheck: "+healthcheckCommand().summary+".\n\nUsage: klarna-mock healthcheck [-url URL] [-timeout DURATION]\n\n"+
			"It prints the answer (the /readyz document names the mock's version and its checks).\n\nFlags:\n")
		cli.PrintFlags(w, fs)
	}
	if helped, err := cli.Parse(fs, args, stdout, help); helped || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("klarna-mock healthcheck takes no arguments (see klarna-mock healthcheck --help)")
	}
	url := *target
	if url == "" {
		var err error
		if url, err = readyzURL(cli.EnvOr(getenv, envAddr, defaultAddr)); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return cli.Usagef("-url %q: %v", url, err)
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxHealthAnswer))
	if err != nil {
		return fmt.Errorf("not ready: reading the answer of %s: %w", url, err)
	}
	answer := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s answered %s: %s", url, resp.Status, answer)
	}
	_, err = fmt.Fprintln(stdout, answer)
	return err
}

// readyzURL is the readiness URL of a mock listening at addr. A mock listening on every
// interface (in a container, say) is reached on the loopback address, which is one of them.
func readyzURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		return "", cli.Usagef("%s=%q is not an address with a port to check, such as %s; pass -url", envAddr, addr, defaultAddr)
	}
	if ip, err := netip.ParseAddr(host); host == "" || err == nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if err == nil && ip.Is6() {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}
