// Command load is bench/run.sh's load generator: N keep-alive HTTP/1.1 connections on loopback,
// each sending one request after the other for a fixed time, with every latency kept for the
// percentiles and the server process's CPU time read from /proc/PID/stat around the measured part.
//
// It writes requests prepared once as bytes and reads answers with a minimal parser, so that the
// client, which shares the machine's cores with the server, costs each server it loads the same
// little. With -mock-quota it loads a klarna-mock with approved authorizes in rounds: a round
// charges a fresh customer token of the tenant until the tenant holds -mock-quota transactions
// (its quota, --max-objects), then the load pauses, the tenant is reset (POST /mock/v1/reset) and
// a new token is made, and the next round starts from an empty store. Only the rounds are
// measured, so the figures cover a store going from empty to full, and the CPU of every fifth of
// each round is reported apart to show whether the cost grows with the store.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// fifths is how many parts of a round the CPU is reported for.
const fifths = 5

func main() {
	var headers headerFlags
	target := flag.String("url", "", "the URL to load, e.g. http://127.0.0.1:8080/path")
	body := flag.String("body", "", "the POST body; empty sends GET")
	flag.Var(&headers, "H", "a request header, `Name: value` (repeatable)")
	conns := flag.Int("c", 32, "connections")
	dur := flag.Duration("d", 10*time.Second, "how long the measured load lasts")
	warm := flag.Duration("warmup", 2*time.Second, "load before the measurement, not counted")
	pid := flag.Int("pid", 0, "the server's process id, for its CPU time and resident set")
	quota := flag.Int("mock-quota", 0, "load a klarna-mock in rounds of this many approved authorizes (see the command's doc); 0 loads -url as it is")
	key := flag.String("mock-key", "klarna_test_api_bench", "with -mock-quota: the tenant's API key")
	flag.Parse()
	u, err := url.Parse(*target)
	if err != nil || u.Host == "" {
		fail(fmt.Errorf("-url %q: want http://host:port/path", *target))
	}
	l := &loader{host: u.Host, conns: *conns, pid: *pid}
	if *quota > 0 {
		l.mock = &mockRounds{base: u, key: *key, quota: int64(*quota)}
	}
	l.build(u.RequestURI(), *body, headers)
	if *warm > 0 {
		if _, err := l.run(*warm); err != nil {
			fail(fmt.Errorf("warm-up: %w", err))
		}
	}
	res, err := l.run(*dur)
	if err != nil {
		fail(err)
	}
	res.print(os.Stdout, *pid)
}

// loader sends one prepared request over its connections.
type loader struct {
	host  string
	conns int
	pid   int
	// req is the request without the per-round header, end closes its header block with the body.
	req, end []byte
	mock     *mockRounds
}

// build prepares the request bytes once.
func (l *loader) build(path, body string, headers headerFlags) {
	method := "GET"
	if body != "" {
		method = "POST"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, l.host)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if l.mock != nil {
		fmt.Fprintf(&b, "Authorization: Basic %s\r\nContent-Type: application/json\r\n", l.mock.key)
	}
	l.req = b.Bytes()
	l.end = fmt.Appendf(nil, "Content-Length: %d\r\n\r\n%s", len(body), body)
}

// result is what one measured run saw.
type result struct {
	elapsed   time.Duration
	latencies []time.Duration
	byStatus  map[int]int
	// cpu is the server's CPU time in the measured part; fifth its share by fifth of a round.
	cpu, pause time.Duration
	fifth      [fifths]time.Duration
	fifthN     [fifths]int64
	rounds     int
}

// run loads for d and returns what it saw. Without mock rounds the whole of d is measured; with
// them, d is the measured time of the rounds, pauses between rounds not counted.
func (l *loader) run(d time.Duration) (*result, error) {
	res := &result{byStatus: map[int]int{}}
	if l.mock == nil {
		return res, l.round(d, -1, res)
	}
	for res.elapsed < d {
		start := time.Now()
		if err := l.mock.prepare(); err != nil {
			return nil, err
		}
		res.pause += time.Since(start)
		if err := l.round(d-res.elapsed, l.mock.quota, res); err != nil {
			return nil, err
		}
		res.rounds++
	}
	return res, nil
}

// round sends requests on every connection until d has passed or, with limit >= 0, limit
// requests were sent, then waits for the answers.
func (l *loader) round(d time.Duration, limit int64, res *result) error {
	var sent atomic.Int64
	var mu sync.Mutex
	var firstErr error
	cpuAt := func() time.Duration { return cpuTime(l.pid) }
	var marks [fifths + 1]time.Duration
	var marksN [fifths + 1]int64
	var markMu sync.Mutex
	mark := func(i int, n int64) {
		markMu.Lock()
		marks[i], marksN[i] = cpuAt(), n
		markMu.Unlock()
	}
	req := l.req
	if l.mock != nil {
		req = append(slices.Clip(req), l.mock.header...)
	}
	req = append(req, l.end...)
	start := time.Now()
	deadline := start.Add(d)
	mark(0, 0)
	var wg sync.WaitGroup
	for range l.conns {
		wg.Go(func() {
			lat, status, err := l.worker(req, deadline, limit, &sent, func(n int64) {
				if limit > 0 && n%(limit/fifths) == 0 && n/(limit/fifths) < fifths {
					mark(int(n/(limit/fifths)), n)
				}
			})
			mu.Lock()
			defer mu.Unlock()
			res.latencies = append(res.latencies, lat...)
			for s, n := range status {
				res.byStatus[s] += n
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	n := sent.Load()
	if limit > 0 {
		n = min(n, limit)
	}
	mark(fifths, n)
	res.elapsed += elapsed
	res.cpu += marks[fifths] - marks[0]
	if limit > 0 && n == limit {
		// Only a whole round has every mark; the last round the deadline cut short is left out.
		for i := range fifths {
			res.fifth[i] += marks[i+1] - marks[i]
			res.fifthN[i] += marksN[i+1] - marksN[i]
		}
	}
	return firstErr
}

// worker sends req on one connection, one at a time, until the deadline or until sent reaches
// limit (when limit >= 0), and returns the latencies and statuses it saw. sentN is told the
// number of each request it sends.
func (l *loader) worker(req []byte, deadline time.Time, limit int64, sent *atomic.Int64, sentN func(int64)) ([]time.Duration, map[int]int, error) {
	status := map[int]int{}
	conn, err := net.Dial("tcp", l.host)
	if err != nil {
		return nil, status, err
	}
	defer conn.Close()
	br := bufio.NewReaderSize(conn, 64<<10)
	lat := make([]time.Duration, 0, 1<<14)
	for {
		now := time.Now()
		if !now.Before(deadline) {
			return lat, status, nil
		}
		if limit >= 0 {
			n := sent.Add(1)
			if n > limit {
				return lat, status, nil
			}
			sentN(n)
		} else {
			sent.Add(1)
		}
		if _, err := conn.Write(req); err != nil {
			return lat, status, err
		}
		code, err := readResponse(br)
		if err != nil {
			return lat, status, err
		}
		lat = append(lat, time.Since(now))
		status[code]++
	}
}

// readResponse reads one HTTP/1.1 response with a Content-Length or chunked body and returns its
// status code.
func readResponse(br *bufio.Reader) (int, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length, chunked := -1, false
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, _ := bytes.Cut(h, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		}
	}
	switch {
	case chunked:
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return 0, err
			}
			size, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.SplitN(line, []byte(";"), 2)[0])), 16, 64)
			if err != nil {
				return 0, fmt.Errorf("bad chunk size %q", line)
			}
			if _, err := br.Discard(int(size) + 2); err != nil {
				return 0, err
			}
			if size == 0 {
				return code, nil
			}
		}
	case length >= 0:
		_, err = br.Discard(length)
		return code, err
	}
	return 0, errors.New("response without Content-Length, not chunked")
}

// mockRounds makes each round of approved authorizes start from an empty tenant.
type mockRounds struct {
	base  *url.URL
	key   string
	quota int64
	// header is the current round's Klarna-Customer-Token header line.
	header []byte
}

// benchSubscription is the subscription a charge without the customer carries, as a
// subscription's renewals do (docs/klarna.md §7); the token is made for it.
const benchSubscription = `"subscriptions":[{"subscription_reference":"sub-1","name":"Shoe club","billing_plans":[{"billing_amount":11800,"currency":"USD","interval":"MONTH","interval_frequency":1}]}]`

// prepare resets the tenant and makes the customer token the next round charges: a test token's
// customer consents at once, in an authorize that asks for the token. A network session token
// would not do for the load: the first transaction made with it spends it (docs/klarna.md §6).
func (m *mockRounds) prepare() error {
	if _, err := m.call("/mock/v1/reset", "{}", ""); err != nil {
		return err
	}
	account := strings.TrimPrefix(m.base.Path, "/v2/accounts/")
	account, _, _ = strings.Cut(account, "/")
	var tt struct {
		Token string `json:"interoperability_token"`
	}
	if err := m.decode("/v2/accounts/"+account+"/interoperability/test-tokens", `{"email":"bench@example.com"}`, "", &tt); err != nil {
		return err
	}
	var ar struct {
		CustomerTokenResponse struct {
			CustomerToken struct {
				Token string `json:"customer_token"`
			} `json:"customer_token"`
		} `json:"customer_token_response"`
	}
	err := m.decode("/v2/accounts/"+account+"/payment/authorize",
		`{"currency":"USD","request_customer_token":{"scopes":["payment:customer_not_present"]},"step_up_config":{"customer_interaction_config":{"method":"HANDOVER","return_url":"https://merchant.example/return"}},"supplementary_purchase_data":{`+benchSubscription+`}}`,
		tt.Token, &ar)
	if err != nil {
		return err
	}
	if ar.CustomerTokenResponse.CustomerToken.Token == "" {
		return errors.New("the authorize made no customer token")
	}
	m.header = []byte("Klarna-Customer-Token: " + ar.CustomerTokenResponse.CustomerToken.Token + "\r\n")
	return nil
}

// decode makes a call and decodes its JSON answer into v.
func (m *mockRounds) decode(path, body, sessionToken string, v any) error {
	b, err := m.call(path, body, sessionToken)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// call POSTs body to path on its own connection and returns the answer, failing on a status
// other than 2xx.
func (m *mockRounds) call(path, body, sessionToken string) ([]byte, error) {
	conn, err := net.Dial("tcp", m.base.Host)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	extra := ""
	if sessionToken != "" {
		extra = "Klarna-Network-Session-Token: " + sessionToken + "\r\n"
	}
	if _, err := fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		path, m.base.Host, m.key, extra, len(body), body); err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(conn)
	if err != nil {
		return nil, err
	}
	head, b, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 2")) {
		return nil, fmt.Errorf("POST %s: %s", path, raw)
	}
	return b, nil
}

// print writes the result as one line of name=value pairs, then one per fifth of a round.
func (r *result) print(w io.Writer, pid int) {
	slices.Sort(r.latencies)
	n := len(r.latencies)
	pct := func(p float64) float64 {
		if n == 0 {
			return 0
		}
		return float64(r.latencies[min(n-1, int(p*float64(n)))].Microseconds()) / 1000
	}
	ok := r.byStatus[200]
	fmt.Fprintf(w, "requests=%d ok=%d other=%d rps=%.0f cpu_us=%.1f p50_ms=%.3f p99_ms=%.3f rss_mib=%.1f",
		n, ok, n-ok, float64(n)/r.elapsed.Seconds(), perRequest(r.cpu, int64(n)), pct(0.5), pct(0.99), rssMiB(pid))
	if r.rounds > 0 {
		fmt.Fprintf(w, " rounds=%d pause_ms=%.1f", r.rounds, float64(r.pause.Microseconds())/1000/float64(r.rounds))
	}
	fmt.Fprintln(w)
	for s, c := range r.byStatus {
		if s != 200 {
			fmt.Fprintf(w, "status %d: %d answers\n", s, c)
		}
	}
	if r.rounds > 0 {
		for i := range fifths {
			fmt.Fprintf(w, "fifth=%d cpu_us=%.1f requests=%d\n", i+1, perRequest(r.fifth[i], r.fifthN[i]), r.fifthN[i])
		}
	}
}

func perRequest(d time.Duration, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Nanoseconds()) / 1000 / float64(n)
}

// cpuTime is the CPU time, user and system, the process's threads have run; 0 without a pid.
// It sums each thread's run time from /proc/PID/task/TID/schedstat, which the scheduler keeps
// in nanoseconds, rather than reading utime+stime from /proc/PID/stat, which counts ticks of
// 10 ms: a fifth of a round of the mock's load is some 60 ms of CPU, a handful of ticks, so
// figures by fifth read from ticks moved by a tenth from run to run by sampling alone. A thread
// that ended takes its time with it, which a Go server's threads, kept for reuse, do not do;
// where schedstat cannot be read, it falls back to the ticks.
func cpuTime(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	if d, ok := schedTime(pid); ok {
		return d
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces; fields count from after it.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// schedTime sums the run time of the process's threads from their schedstat (its first field,
// nanoseconds on a CPU), and reports whether it could read them.
func schedTime(pid int) (time.Duration, bool) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil || len(tasks) == 0 {
		return 0, false
	}
	var sum int64
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // the thread ended since the listing
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return 0, false
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, false
		}
		sum += ns
	}
	return time.Duration(sum), true
}

// clockTicks is Linux's USER_HZ, the unit of /proc/PID/stat's times, 100 on every platform Go
// supports.
const clockTicks = 100

// rssMiB is the process's resident set from /proc/PID/status; 0 without a pid.
func rssMiB(pid int) float64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kib / 1024
		}
	}
	return 0
}

// headerFlags collects -H flags.
type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "load:", err)
	os.Exit(1)
}
