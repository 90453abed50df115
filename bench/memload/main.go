// Command memload checks that one tenant's load neither grows the mock's memory past a bound nor
// keeps another tenant from being served: it starts the klarna-mock binary given as its arguments, sends N
// step-up authorizes from tenant A over a few connections (each stores a live Payment Request,
// until A's quota, or with -a-tenants the process-wide budget, is full and the mock answers 429
// QUOTA_EXCEEDED), while tenant B makes an approved authorize (with a fresh test session token
// each time, since an approved authorize spends it) at a steady pace and must get a 200 every
// time. It reports A's answers,
// B's failures and latency, and the mock's resident memory, and exits with status 1 when the
// peak resident set passes -max-rss-mib, B saw anything but a 200, or A got an answer other than
// 200 or 429 QUOTA_EXCEEDED. It talks to the loopback address the mock prints only, and stops the
// mock at the end.
//
//	memload [flags] KLARNA_MOCK_BINARY [ARGS...]
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// account is the partner account in the request paths; with the mock's default accounts the
// tenant is the API key, so both tenants use the same account id and only their keys differ.
const account = "krn:partner:global:account:test:MEMLOAD1"

// config is what the flags set.
type config struct {
	n         int
	conns     int
	bEvery    time.Duration
	maxRSSMiB int64
	timeout   time.Duration
	keyA      string
	aTenants  int
	keyB      string
}

func main() {
	var cfg config
	fs := flag.NewFlagSet("memload", flag.ExitOnError)
	fs.IntVar(&cfg.n, "n", 100_000, "step-up authorizes tenant A sends")
	fs.IntVar(&cfg.conns, "c", 4, "concurrent connections of tenant A")
	fs.DurationVar(&cfg.bEvery, "b-every", 100*time.Millisecond, "how often tenant B authorizes")
	fs.Int64Var(&cfg.maxRSSMiB, "max-rss-mib", 128, "the mock's peak resident set (VmHWM) must stay at or under this")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Minute, "hard limit on the whole run")
	fs.StringVar(&cfg.keyA, "key-a", "klarna_test_api_memload_A", "tenant A's API key")
	fs.IntVar(&cfg.aTenants, "a-tenants", 1, "spread A's authorizes over this many API keys (KEY-A_1, KEY-A_2, ...), each a tenant with a quota of its own")
	fs.StringVar(&cfg.keyB, "key-b", "klarna_test_api_memload_B", "tenant B's API key")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: memload [flags] KLARNA_MOCK_BINARY [ARGS...]")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() < 1 || cfg.n < 1 || cfg.conns < 1 || cfg.bEvery <= 0 || cfg.aTenants < 1 {
		fs.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	failures, err := run(ctx, cfg, fs.Args(), os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "memload:", err)
		os.Exit(1)
	}
	if len(failures) > 0 {
		fmt.Println("FAIL:", strings.Join(failures, "; "))
		os.Exit(1)
	}
	fmt.Println("PASS")
}

// run starts the mock, loads it and stops it. It returns the checks that failed; err is for a
// run that could not measure at all.
func run(ctx context.Context, cfg config, mockArgs []string, out io.Writer) (failures []string, err error) {
	mock, err := startMock(mockArgs)
	if err != nil {
		return nil, err
	}
	defer func() {
		if serr := mock.stop(); serr != nil {
			failures = append(failures, "stopping the mock: "+serr.Error())
		}
	}()
	fmt.Fprintf(out, "== %s: %d step-up authorizes from tenant A (%d keys) over %d connections, tenant B every %s; mock flags: %s\n",
		time.Now().UTC().Format(time.RFC3339), cfg.n, cfg.aTenants, cfg.conns, cfg.bEvery, strings.Join(mockArgs[1:], " "))

	b, err := newTenantB(ctx, mock.url, cfg.keyB)
	if err != nil {
		return nil, err
	}
	if kib, err := readStatusKiB(mock.pid(), "VmRSS"); err == nil {
		fmt.Fprintf(out, "  at start: RSS %.1f MiB\n", mib(kib))
	}
	bCtx, stopB := context.WithCancel(ctx)
	bDone := make(chan bResult)
	go func() { bDone <- b.run(bCtx, cfg.bEvery) }()

	cpuBefore, gcBefore := mock.cpuAndGC()
	start := time.Now()
	a := loadA(ctx, cfg, mock, out)
	elapsed := time.Since(start)
	stopB()
	br := <-bDone
	cpuAfter, gcAfter := mock.cpuAndGC()

	// The final resident set is read after a pause, so that it shows what the mock keeps rather
	// than the garbage of the last requests.
	time.Sleep(time.Second)
	rss, err := readStatusKiB(mock.pid(), "VmRSS")
	if err != nil {
		return nil, err
	}
	peak, err := readStatusKiB(mock.pid(), "VmHWM")
	if err != nil {
		return nil, err
	}

	fmt.Fprintf(out, "A: %d answers in %.1f s (%.0f/s): %s\n", a.sent, elapsed.Seconds(), float64(a.sent)/elapsed.Seconds(), a.counts)
	fmt.Fprintf(out, "B: %d authorizes, %d not 200, latency %s\n", br.sent, br.failed, latencySummary(br.latencies))
	fmt.Fprintf(out, "RSS: peak (VmHWM) %.1f MiB, final %.1f MiB (limit %d MiB)\n", mib(peak), mib(rss), cfg.maxRSSMiB)
	if cpuBefore >= 0 && cpuAfter >= 0 && gcBefore >= 0 && gcAfter >= 0 && a.sent > 0 {
		fmt.Fprintf(out, "mock CPU during the load: %.1f s, %.0f µs per request of A's; %d garbage collections\n",
			cpuAfter-cpuBefore, (cpuAfter-cpuBefore)/float64(a.sent)*1e6, gcAfter-gcBefore)
	}
	if a.sent < cfg.n {
		failures = append(failures, fmt.Sprintf("tenant A sent %d of %d before the run stopped: %v", a.sent, cfg.n, context.Cause(ctx)))
	}
	return append(failures, check(cfg, a, br, peak)...), nil
}

// check lists what the run must not have seen: an answer to A other than 200 or a full quota,
// a tenant B that was not served every time, a resident set over the limit.
func check(cfg config, a aResult, br bResult, peakKiB int64) []string {
	var failures []string
	for k, v := range a.counts {
		if k != "200" && k != "429 "+quotaExceeded {
			failures = append(failures, fmt.Sprintf("tenant A got %d × %s", v, k))
		}
	}
	if br.sent == 0 {
		failures = append(failures, "tenant B made no authorize")
	}
	if br.failed > 0 {
		failures = append(failures, fmt.Sprintf("tenant B got %d answers other than 200, the last %s", br.failed, br.lastFailure))
	}
	if peakKiB > cfg.maxRSSMiB<<10 {
		failures = append(failures, fmt.Sprintf("peak RSS %.1f MiB is over %d MiB", mib(peakKiB), cfg.maxRSSMiB))
	}
	return failures
}

// tenantA is the API key of A's i-th authorize: cfg.keyA itself, or with -a-tenants one of
// that many keys in turn.
func (cfg config) tenantA(i int64) string {
	if cfg.aTenants == 1 {
		return cfg.keyA
	}
	return fmt.Sprintf("%s_%d", cfg.keyA, i%int64(cfg.aTenants)+1)
}

// quotaExceeded is the mock's error_code for a full per-tenant quota.
const quotaExceeded = "QUOTA_EXCEEDED"

// aResult is what tenant A got.
type aResult struct {
	sent   int
	counts counts
}

// counts counts answers by status and, for errors, error_code ("429 QUOTA_EXCEEDED").
type counts map[string]int

// String lists the counts, most frequent first.
func (c counts) String() string {
	keys := slices.Collect(maps.Keys(c))
	slices.SortFunc(keys, func(x, y string) int {
		return cmp.Or(cmp.Compare(c[y], c[x]), strings.Compare(x, y))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d × %s", c[k], k)
	}
	return strings.Join(parts, ", ")
}

// loadA sends cfg.n step-up authorizes of tenant A over cfg.conns connections and prints the
// mock's resident set at every tenth of the way, which shows it level off once A's quota is full.
func loadA(ctx context.Context, cfg config, mock *mockProcess, out io.Writer) aResult {
	client := newClient(cfg.conns)
	var next, done atomic.Int64
	step := max(int64(cfg.n)/10, 1)
	var mu sync.Mutex
	total := aResult{counts: counts{}}
	var wg sync.WaitGroup
	for range cfg.conns {
		wg.Go(func() {
			mine := counts{}
			sent := 0
			for ctx.Err() == nil {
				i := next.Add(1)
				if i > int64(cfg.n) {
					break
				}
				mine[authorize(ctx, client, mock.url, cfg.tenantA(i), "", stepUpBody(i))]++
				sent++
				if d := done.Add(1); d%step == 0 {
					if kib, err := readStatusKiB(mock.pid(), "VmRSS"); err == nil {
						fmt.Fprintf(out, "  after %d: RSS %.1f MiB\n", d, mib(kib))
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			total.sent += sent
			for k, v := range mine {
				total.counts[k] += v
			}
		})
	}
	wg.Wait()
	return total
}

// stepUpBody is a one-time authorize with the magic amount 13400, which the default rules answer
// with STEP_UP_REQUIRED and a live (SUBMITTED) Payment Request (fixtures/default.yaml). It has the
// shape of fixtures/samples/one-time.json, a typical purchase: two line items, a customer, a
// shipping address and a return URL with Klarna's placeholders.
func stepUpBody(i int64) []byte {
	return fmt.Appendf(nil, `{"currency":"USD",`+
		`"request_payment_transaction":{"amount":13400,"payment_transaction_reference":"memload-tx-%[1]d","capture":"LATER"},`+
		`"step_up_config":{"payment_request_reference":"memload-pr-%[1]d","customer_interaction_config":{"method":"HANDOVER",`+
		`"return_url":"https://shop.example.com/klarna/return?id={klarna.payment_request.id}&state={klarna.payment_request.state}&token={klarna.payment_request.klarna_network_session_token}"}},`+
		`"supplementary_purchase_data":{"purchase_reference":"memload-%[1]d","line_items":[`+
		`{"name":"Running shoes","quantity":1,"unit_price":11400,"total_amount":11400,"total_tax_amount":0,"line_item_reference":"SKU-SHOE-42"},`+
		`{"name":"Sports socks","quantity":2,"unit_price":1000,"total_amount":2000,"total_tax_amount":0,"line_item_reference":"SKU-SOCK-3"}],`+
		`"customer":{"email":"jane.doe@example.com"},`+
		`"shipping":[{"recipient":{"given_name":"Jane","family_name":"Doe","email":"jane.doe@example.com"},`+
		`"address":{"street_address":"350 Fifth Avenue","postal_code":"10118","city":"New York","region":"NY","country":"US"}}]}}`, i)
}

// approvedBody is a one-time authorize of an identified customer (the request carries a test
// session token), which the default rules approve.
func approvedBody(i int) []byte {
	return fmt.Appendf(nil, `{"currency":"USD",`+
		`"request_payment_transaction":{"amount":11800,"payment_transaction_reference":"memload-b-%d","capture":"LATER"}}`, i)
}

// authorize posts one authorize and classifies its answer: "200", "STATUS ERROR_CODE" for a
// Klarna error, "STATUS" for any other answer, "transport error" when there was none.
func authorize(ctx context.Context, client *http.Client, base, key, sessionToken string, body []byte) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v2/accounts/"+account+"/payment/authorize", bytes.NewReader(body))
	if err != nil {
		return "request error"
	}
	req.Header.Set("Authorization", "Basic "+key)
	req.Header.Set("Content-Type", "application/json")
	if sessionToken != "" {
		req.Header.Set("Klarna-Network-Session-Token", sessionToken)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "transport error"
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return "transport error"
	}
	return classify(resp.StatusCode, data)
}

// classify names an answer by its status and, for an error, its Klarna error_code.
func classify(status int, body []byte) string {
	if status == http.StatusOK {
		return "200"
	}
	var ke struct {
		ErrorCode string `json:"error_code"`
	}
	if json.Unmarshal(body, &ke) == nil && ke.ErrorCode != "" {
		return strconv.Itoa(status) + " " + ke.ErrorCode
	}
	return strconv.Itoa(status)
}

// newClient is an HTTP client keeping conns connections open, so that the load runs over that
// many connections rather than opening one per request.
func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns},
	}
}

// tenantB is the well-behaved tenant: a connection of its own, so that its latency is the mock's
// and not a queue behind A's requests here.
type tenantB struct {
	client    *http.Client
	base, key string
}

// bResult is what tenant B saw.
type bResult struct {
	sent, failed int
	// latencies are the answers' times in the order sent.
	latencies   []time.Duration
	lastFailure string
}

// newTenantB is tenant B, checked to be served: it gets a first test session token.
func newTenantB(ctx context.Context, base, key string) (*tenantB, error) {
	b := &tenantB{client: newClient(1), base: base, key: key}
	if _, err := b.testToken(ctx); err != nil {
		return nil, fmt.Errorf("tenant B's test token: %w", err)
	}
	return b, nil
}

// testToken gets a test session token of an identified customer, which an approved authorize
// spends: each of B's authorizes needs a fresh one.
func (b *tenantB) testToken(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+"/v2/accounts/"+account+"/interoperability/test-tokens",
		strings.NewReader(`{"email":"memload-b@example.com"}`))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Basic "+b.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	var tok struct {
		Token string `json:"interoperability_token"`
	}
	if err := json.Unmarshal(data, &tok); err != nil || resp.StatusCode/100 != 2 || tok.Token == "" {
		return "", fmt.Errorf("%s", classify(resp.StatusCode, data))
	}
	return tok.Token, nil
}

// run gets a test token and authorizes with it at once, then once every `every`, until ctx is
// done: the first goes at once so that even a short run measures B. The latency is the
// authorize's; a token B could not get counts as a failure.
func (b *tenantB) run(ctx context.Context, every time.Duration) bResult {
	var r bResult
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		got := "200"
		start := time.Now()
		token, err := b.testToken(ctx)
		if err == nil {
			start = time.Now()
			got = authorize(ctx, b.client, b.base, b.key, token, approvedBody(r.sent))
		}
		if ctx.Err() != nil {
			return r // cut short by the end of the run, not an answer of the mock
		}
		r.sent++
		r.latencies = append(r.latencies, time.Since(start))
		if err != nil {
			got = "test token: " + err.Error()
		}
		if got != "200" {
			r.failed++
			r.lastFailure = got
		}
		select {
		case <-ctx.Done():
			return r
		case <-tick.C:
		}
	}
}

// latencySummary gives the median, the 99th percentile and the maximum of latencies: the maximum
// alone on a shared machine is often one scheduling hiccup.
func latencySummary(latencies []time.Duration) string {
	if len(latencies) == 0 {
		return "none measured"
	}
	sorted := slices.Sorted(slices.Values(latencies))
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return fmt.Sprintf("median %.1f ms, p99 %.1f ms, max %.1f ms",
		ms(sorted[len(sorted)/2]), ms(sorted[len(sorted)*99/100]), ms(sorted[len(sorted)-1]))
}

// mockProcess is the running mock.
type mockProcess struct {
	cmd  *exec.Cmd
	url  string
	wait chan error
}

// startMock starts the mock and reads the address it prints on its first line.
func startMock(args []string) (*mockProcess, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	// The mock must not outlive this program, even when it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	m := &mockProcess{cmd: cmd, wait: make(chan error, 1)}
	lines := bufio.NewReader(stdout)
	line, err := lines.ReadString('\n')
	if err == nil {
		m.url, err = listenURL(line)
	}
	// The rest of stdout is drained so that the mock never blocks writing to it.
	go func() { _, _ = io.Copy(io.Discard, lines); m.wait <- cmd.Wait() }()
	if err != nil {
		_ = m.stop()
		return nil, fmt.Errorf("reading the mock's address: %w", err)
	}
	return m, nil
}

// listenURL is the URL in the mock's "klarna-mock listening on http://ADDR" line.
func listenURL(line string) (string, error) {
	_, url, ok := strings.Cut(strings.TrimSpace(line), "listening on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		return "", fmt.Errorf("unexpected first line %q (the mock must listen on 127.0.0.1)", line)
	}
	return url, nil
}

func (m *mockProcess) pid() int { return m.cmd.Process.Pid }

// stop asks the mock to shut down as a signal from the terminal would, and kills it when it has
// not stopped within 15 seconds.
func (m *mockProcess) stop() error {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-m.wait:
		return err
	case <-time.After(15 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.wait
		return errors.New("the mock did not stop within 15 s of SIGTERM and was killed")
	}
}

// cpuAndGC reads the mock's CPU time so far (user and system, in seconds) from /proc/PID/stat and
// how many garbage collections it has run from its /metrics; -1 for what it cannot read, which
// only leaves the figure out of the report.
func (m *mockProcess) cpuAndGC() (cpu float64, gcs int64) {
	cpu, gcs = -1, -1
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", m.pid())); err == nil {
		cpu = parseStatCPU(data)
	}
	resp, err := http.Get(m.url + "/metrics")
	if err != nil {
		return cpu, gcs
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return cpu, gcs
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "go_gc_duration_seconds_count "); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				gcs = n
			}
		}
	}
	return cpu, gcs
}

// clockTicks is the unit of /proc/PID/stat's times, USER_HZ, which Linux fixes at 100 for
// user space.
const clockTicks = 100

// parseStatCPU returns utime + stime of a /proc/PID/stat line in seconds, -1 if it is malformed.
// The command name, the second field, may hold spaces, so the fields are counted after its ")".
func parseStatCPU(stat []byte) float64 {
	_, rest, ok := strings.Cut(string(stat), ") ")
	fields := strings.Fields(rest)
	// After the name come state (field 3) ... utime (14) and stime (15).
	if !ok || len(fields) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return float64(utime+stime) / clockTicks
}

// readStatusKiB reads one "Name:  N kB" field of /proc/PID/status.
func readStatusKiB(pid int, field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusKiB(data, field)
}

// parseStatusKiB finds field in the text of a /proc/PID/status file.
func parseStatusKiB(status []byte, field string) (int64, error) {
	for line := range strings.Lines(string(status)) {
		value, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", field, err)
		}
		return n, nil
	}
	return 0, fmt.Errorf("no %s in /proc/PID/status", field)
}

func mib(kib int64) float64 { return float64(kib) / 1024 }
