package app_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/app"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/postgres"
	"github.com/klarna-mock/klarna-mock/mockserver/storetest"
)

// restartStart is when the restart tests' clocks start.
var restartStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// openMock assembles a mock on the database with a manual clock, closed by the returned function
// (and, if the test ends first, when it ends).
func openMock(t *testing.T, url string) (*app.Mock, func()) {
	t.Helper()
	m, err := app.New(app.Config{DatabaseURL: url, Clock: clock.NewManual(restartStart)})
	require.NoError(t, err)
	var once sync.Once
	closeMock := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, _ = m.Close(ctx)
		})
	}
	t.Cleanup(closeMock)
	return m, closeMock
}

// restartRules is the tenant's own rules document in TestRestartKeepsTheState.
const restartRules = `version: 1
rules:
  - name: restart-vip
    when: {email: VIP@shop.example}
    then: {result: APPROVED}
`

// TestRestartKeepsTheState creates a customer token, a payment request and an idempotent purchase
// on a mock on PostgreSQL, moves the tenant's clock and sets its rules, closes the mock and starts
// a fresh one on the same database: the request is there (and expires on time: its timer was
// resumed), the token is charged, the purchase's retry gets the first answer, and the clock and
// the rules are the tenant's. The tenant's state then exports and imports on the database.
func TestRestartKeepsTheState(t *testing.T) {
	t.Parallel()
	db := storetest.Database(t)
	first, closeFirst := openMock(t, db)
	before := tenantOf(t, first, "restart")
	session := before.session()
	token := before.ok(http.MethodPost, "/v2/accounts/"+account+"/payment/authorize",
		map[string]any{"currency": "USD", "request_customer_token": map[string]any{"scopes": []string{"payment:customer_not_present"}}},
		"Klarna-Network-Session-Token", session).str("customer_token_response.customer_token.customer_token")
	require.NotEmpty(t, token)
	request := before.stepUp()
	firstPurchase := before.ok(http.MethodPost, "/v2/accounts/"+account+"/payment/authorize", purchase(1500, false),
		"Klarna-Network-Session-Token", session, "Klarna-Idempotency-Key", "restart-1")
	transaction := firstPurchase.str("payment_transaction_response.payment_transaction.payment_transaction_id")
	require.NotEmpty(t, transaction)
	require.Equal(t, http.StatusOK, before.advance("PT30M").status)
	rules := before.send(http.MethodPut, "/mock/v1/rules", []byte(restartRules), "Content-Type", "application/yaml")
	require.Equal(t, http.StatusOK, rules.Code, rules.Body.String())
	closeFirst()

	second, _ := openMock(t, db)
	after := tenantOf(t, second, "restart")
	require.Equal(t, "SUBMITTED", after.requestState(request))
	charged := after.ok(http.MethodPost, "/v2/accounts/"+account+"/payment/authorize", purchase(2500, false), "Klarna-Customer-Token", token)
	require.Equal(t, "APPROVED", charged.str("payment_transaction_response.result"), string(charged.raw))
	retried := after.ok(http.MethodPost, "/v2/accounts/"+account+"/payment/authorize", purchase(1500, false),
		"Klarna-Network-Session-Token", session, "Klarna-Idempotency-Key", "restart-1")
	require.JSONEq(t, string(firstPurchase.raw), string(retried.raw), "the retry gets the first answer")
	require.Equal(t, http.StatusOK, after.do(http.MethodGet, "/v2/accounts/"+account+"/payment/transactions/"+transaction, nil).status)

	require.Equal(t, "30m0s", after.ok(http.MethodGet, "/mock/v1/clock", nil).str("offset"), "the tenant's clock kept its move")
	require.Contains(t, string(after.ok(http.MethodGet, "/mock/v1/rules", nil).raw), "restart-vip", "and its rules")

	require.Equal(t, http.StatusOK, after.advance("PT3H").status)
	require.Eventually(t, func() bool { return after.requestState(request) == "EXPIRED" }, 5*time.Second, 10*time.Millisecond,
		"the request's expiry was resumed on the new mock")

	// The tenant's state exports from the database and imports into it again.
	exported := after.ok(http.MethodGet, "/mock/v1/state", nil)
	require.Contains(t, string(exported.raw), token)
	imported := after.send(http.MethodPut, "/mock/v1/state", exported.raw)
	require.Equal(t, http.StatusOK, imported.Code, imported.Body.String())
	again := after.ok(http.MethodPost, "/v2/accounts/"+account+"/payment/authorize", purchase(900, false), "Klarna-Customer-Token", token)
	require.Equal(t, "APPROVED", again.str("payment_transaction_response.result"), string(again.raw))
}

// TestDatabaseOutage cuts the mock off its database, first by a database that stops answering
// and then by one that is gone: calls get the Klarna-shaped 503 SERVICE_UNAVAILABLE within the
// store's timeout and /readyz fails, never a 500 or a hang; once the database is back the pool
// reconnects by itself and calls succeed again.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	db := storetest.Database(t)
	p := newCutProxy(t, db)
	m, _ := openMock(t, p.url(t, db))
	tn := tenantOf(t, m, "outage")
	tn.stepUp()
	unavailable := func(a answer) {
		t.Helper()
		require.Equal(t, http.StatusServiceUnavailable, a.status, string(a.raw))
		require.Equal(t, "SERVICE_UNAVAILABLE", a.str("error_code"))
		require.Equal(t, "TECHNICAL_ERROR", a.str("error_type"))
	}

	p.set(proxySilent)
	began := time.Now()
	unavailable(tn.authorize(purchase(1000, true)))
	require.Less(t, time.Since(began), postgres.DefaultTimeout+3*time.Second, "a database that does not answer is a 503 once the store's timeout passes")
	ready := tn.do(http.MethodGet, "/readyz", nil)
	require.Equal(t, http.StatusServiceUnavailable, ready.status, string(ready.raw))
	require.Contains(t, string(ready.raw), `"database"`)

	p.set(proxyDown)
	for range 3 {
		unavailable(tn.authorize(purchase(1000, true)))
	}

	p.set(proxyUp)
	require.Eventually(t, func() bool { return tn.authorize(purchase(1000, true)).status == http.StatusOK }, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, http.StatusOK, tn.do(http.MethodGet, "/readyz", nil).status)
}

// TestStartFailsClearly checks the two start-up failures an operator meets: a database that
// cannot be reached, and one a newer klarna-mock has migrated.
func TestStartFailsClearly(t *testing.T) {
	t.Parallel()
	_, err := app.New(app.Config{DatabaseURL: "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"})
	require.ErrorContains(t, err, "database unreachable")

	db := storetest.Database(t)
	s, err := postgres.Open(t.Context(), postgres.Config{URL: db})
	require.NoError(t, err)
	s.Close()
	conn, err := pgconn.Connect(t.Context(), db)
	require.NoError(t, err)
	require.NoError(t, conn.Exec(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future')`).Close())
	require.NoError(t, conn.Close(t.Context()))
	_, err = app.New(app.Config{DatabaseURL: db})
	require.ErrorIs(t, err, postgres.ErrSchemaTooNew)
	require.ErrorContains(t, err, "version 9999")
}

// proxyState is what a cutProxy does with the database's traffic.
type proxyState int

const (
	// proxyUp forwards it.
	proxyUp proxyState = iota
	// proxySilent holds it: connections open and new ones are kept, nothing goes through, as
	// a database that stopped answering in the middle of a query.
	proxySilent
	// proxyDown closes every connection and each new one at once, as a database that is gone.
	proxyDown
)

// cutProxy stands between the mock and its database.
type cutProxy struct {
	ln       net.Listener
	upstream func() (net.Conn, error)
	mu       sync.Mutex
	changed  *sync.Cond
	state    proxyState
	open     []net.Conn
}

func newCutProxy(t *testing.T, db string) *cutProxy {
	cfg, err := pgconn.ParseConfig(db)
	require.NoError(t, err)
	network, address := "tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	if len(cfg.Host) > 0 && cfg.Host[0] == '/' {
		network, address = "unix", cfg.Host+"/.s.PGSQL."+strconv.Itoa(int(cfg.Port))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &cutProxy{ln: ln, upstream: func() (net.Conn, error) { return net.Dial(network, address) }}
	p.changed = sync.NewCond(&p.mu)
	t.Cleanup(func() {
		_ = ln.Close()
		p.set(proxyDown)
	})
	go p.serve()
	return p
}

// url is the database's URL through the proxy.
func (p *cutProxy) url(t *testing.T, db string) string {
	cfg, err := pgconn.ParseConfig(db)
	require.NoError(t, err)
	u := "postgres://" + cfg.User + "@" + p.ln.Addr().String() + "/" + cfg.Database + "?sslmode=disable&connect_timeout=2"
	for k, v := range cfg.RuntimeParams {
		u += "&" + k + "=" + v
	}
	return u
}

func (p *cutProxy) set(state proxyState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = state
	if state == proxyDown {
		for _, c := range p.open {
			_ = c.Close()
		}
		p.open = nil
	}
	p.changed.Broadcast()
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.carry(c)
	}
}

func (p *cutProxy) carry(c net.Conn) {
	up, err := p.upstream()
	p.mu.Lock()
	if err != nil || p.state == proxyDown {
		p.mu.Unlock()
		_ = c.Close()
		if up != nil {
			_ = up.Close()
		}
		return
	}
	p.open = append(p.open, c, up)
	p.mu.Unlock()
	go p.pipe(up, c)
	p.pipe(c, up)
}

// pipe copies src to dst, holding each chunk while the proxy is silent.
func (p *cutProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.state == proxySilent {
				p.changed.Wait()
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
