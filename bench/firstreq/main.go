// Command firstreq measures how long a freshly started klarna-mock takes to answer its first
// request: it starts the binary given as its arguments, reads the address the mock prints, and
// polls GET /mock/v1/clock, with a test API key, until it answers.
package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: firstreq KLARNA_MOCK_BINARY [ARGS...]")
		os.Exit(2)
	}
	start := time.Now()
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		fail(err)
	}
	if err := cmd.Start(); err != nil {
		fail(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		fail(fmt.Errorf("reading the mock's address: %w", err))
	}
	_, url, ok := strings.Cut(strings.TrimSpace(line), "listening on ")
	if !ok {
		fail(fmt.Errorf("unexpected first line %q", line))
	}
	listening := time.Since(start)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		req, err := http.NewRequest(http.MethodGet, url+"/mock/v1/clock", nil)
		if err != nil {
			fail(err)
		}
		// The clock is each tenant's own, read with the tenant's key.
		req.Header.Set("Authorization", "Basic klarna_test_api_firstreq")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				fmt.Printf("first answer %.1f ms after start (listening after %.1f ms; target <= 50 ms)\n",
					float64(time.Since(start).Microseconds())/1000, float64(listening.Microseconds())/1000)
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	fail(fmt.Errorf("no answer within 5 s"))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "firstreq:", err)
	os.Exit(1)
}
