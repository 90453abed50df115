package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// client talks to a running mock's control API for the CLI subcommands.
type client struct {
	base string
	http *http.Client
}

// controlFlags parses the flags the CLI subcommands share and returns the positional arguments.
func controlFlags(name string, args []string, getenv func(string) string, stderr io.Writer) (*client, []string, error) {
	fs := flag.NewFlagSet("klarna-mock "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	mock := fs.String("mock", envOr(getenv, "KLARNA_MOCK_URL", "http://127.0.0.1:8480"), "base URL of the running mock (env KLARNA_MOCK_URL)")
	if err := fs.Parse(args); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return &client{base: strings.TrimRight(*mock, "/"), http: &http.Client{Timeout: 30 * time.Second}}, fs.Args(), nil
}

// post sends body (nil for none) and prints the JSON answer; a Klarna error becomes the error.
func (c *client) do(ctx context.Context, method, path string, body any, stdout io.Writer) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var ke struct {
			ErrorCode    string `json:"error_code"`
			ErrorMessage string `json:"error_message"`
		}
		if json.Unmarshal(out, &ke) == nil && ke.ErrorCode != "" {
			return fmt.Errorf("%s %s: %d %s: %s", method, path, resp.StatusCode, ke.ErrorCode, ke.ErrorMessage)
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(out)
	}
	pretty.WriteByte('\n')
	_, err = stdout.Write(pretty.Bytes())
	return err
}

// runJourney acts as the customer: klarna-mock journey ACTION PAYMENT_REQUEST_ID.
func runJourney(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, rest, err := controlFlags("journey", args, getenv, stderr)
	if err != nil {
		return err
	}
	if len(rest) != 2 {
		return fmt.Errorf("%w: klarna-mock journey [-mock URL] open|approve|decline|back-out|abandon PAYMENT_REQUEST_ID", errUsage)
	}
	return c.do(ctx, http.MethodPost, "/mock/v1/payment-requests/"+rest[1]+"/"+rest[0], nil, stdout)
}

// runClock reads or advances the clock: klarna-mock clock [advance DURATION].
func runClock(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, rest, err := controlFlags("clock", args, getenv, stderr)
	if err != nil {
		return err
	}
	switch {
	case len(rest) == 0:
		return c.do(ctx, http.MethodGet, "/mock/v1/clock", nil, stdout)
	case len(rest) == 2 && rest[0] == "advance":
		return c.do(ctx, http.MethodPost, "/mock/v1/clock/advance", map[string]string{"duration": rest[1]}, stdout)
	}
	return fmt.Errorf("%w: klarna-mock clock [-mock URL] [advance DURATION]", errUsage)
}
