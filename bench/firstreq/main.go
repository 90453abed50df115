// Command firstreq measures how long a freshly started server takes to answer its first request:
// it starts the binary given as its arguments, reads the address the server prints ("listening
// on URL" on its first line of output), and polls GET -path, with a test API key, until it
// answers -status (200 unless told). With -n it does so n times, one start after the other, and reports the median
// and the fastest, since a single start on a shared machine varies by milliseconds.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

func main() {
	path := flag.String("path", "/mock/v1/clock", "the path polled until it answers 200")
	n := flag.Int("n", 5, "how many starts to time")
	status := flag.Int("status", http.StatusOK, "the status that counts as the answer (a Klarna path's read of an object that does not exist answers 404 after its contract check)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: firstreq [-path PATH] [-status CODE] [-n N] SERVER_BINARY [ARGS...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 || *n < 1 {
		flag.Usage()
		os.Exit(2)
	}
	var times, listening []time.Duration
	for range *n {
		l, d, err := firstAnswer(*path, *status, flag.Args())
		if err != nil {
			fmt.Fprintln(os.Stderr, "firstreq:", err)
			os.Exit(1)
		}
		times, listening = append(times, d), append(listening, l)
	}
	slices.Sort(times)
	slices.Sort(listening)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("first_answer_ms=%.1f fastest_ms=%.1f listening_ms=%.1f starts=%d\n",
		ms(times[len(times)/2]), ms(times[0]), ms(listening[len(listening)/2]), len(times))
}

// firstAnswer starts the server and returns how long it took to print its address and to
// answer path with status.
func firstAnswer(path string, status int, command []string) (listening, answered time.Duration, err error) {
	start := time.Now()
	cmd := exec.Command(command[0], command[1:]...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return 0, 0, fmt.Errorf("reading the server's address: %w", err)
	}
	_, url, ok := strings.Cut(strings.TrimSpace(line), "listening on ")
	if !ok {
		return 0, 0, fmt.Errorf("unexpected first line %q", line)
	}
	listening = time.Since(start)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		req, err := http.NewRequest(http.MethodGet, url+path, nil)
		if err != nil {
			return 0, 0, err
		}
		// The mock's clock is each tenant's own, read with the tenant's key.
		req.Header.Set("Authorization", "Basic klarna_test_api_firstreq")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == status {
				return listening, time.Since(start), nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return 0, 0, errors.New("no answer within 5 s")
}
