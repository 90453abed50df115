// Package metrics holds the mock's Prometheus metrics and the API the rest of the mock records
// them through. Each Metrics has a registry of its own, never the global default one, so that
// the many mocks a test process starts in parallel count apart.
//
// Recording is meant for the request path: a route resolves its Operation once when it is
// mounted, and the children of label values seen before are kept in copy-on-write maps, so an
// observation takes no lock and allocates nothing. Every method is a no-op on a nil *Metrics,
// so a package can hold one without checking whether the mock was built with metrics.
//
// Label values stay few whatever callers send: operations are route names (operationIds),
// never paths; statuses are HTTP status codes; rule names are capped at MaxRuleLabels distinct
// values, beyond which OtherRule stands for the rest.
package metrics

import (
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric of the mock's own.
const Namespace = "klarna_mock"

// Metric names, as scraped.
const (
	NameRequests        = Namespace + "_http_requests_total"
	NameRequestDuration = Namespace + "_http_request_duration_seconds"
	NameAuthorize       = Namespace + "_authorize_outcomes_total"
	NameDeliveries      = Namespace + "_webhook_deliveries_total"
	NameQueueDepth      = Namespace + "_webhook_queue_depth"
	NameStoredObjects   = Namespace + "_stored_objects"
	NameTenants         = Namespace + "_tenants"
	NameBuildInfo       = Namespace + "_build_info"
	NameFaultsFired     = Namespace + "_faults_fired_total"
)

// Results of a webhook delivery attempt, the values of the result label of NameDeliveries.
const (
	// DeliveryDelivered is an attempt the receiver accepted.
	DeliveryDelivered = "delivered"
	// DeliveryRetry is a failed attempt after which another is scheduled.
	DeliveryRetry = "retry"
	// DeliveryFailed is a delivery given up: its last attempt failed, its webhook was deleted,
	// or its tenant had too many deliveries pending for it to be attempted at all.
	DeliveryFailed = "failed"
)

// MaxRuleLabels is how many distinct rule names NameAuthorize labels outcomes with. Tenants
// upload rules of their own, named as they like, and a time series per name would let them grow
// the mock's memory and every scrape without bound.
const MaxRuleLabels = 200

// OtherRule is the rule label of the outcomes decided by rules beyond the first MaxRuleLabels.
const OtherRule = "(other)"

// requestBuckets are the latency buckets in seconds: the mock answers in well under a
// millisecond; the upper buckets catch slow clients and stalls up to a client's timeout.
var requestBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Metrics is one mock's metrics, in a registry of its own.
type Metrics struct {
	registry   *prometheus.Registry
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	authorize  *prometheus.CounterVec
	deliveries [3]prometheus.Counter // by deliveryResults
	faults     *prometheus.CounterVec

	outcomes labelCache[outcome]
	// faultsFired caches faults' children; its labels come from the fixed sets of fault
	// operations and effects.
	faultsFired labelCache[faultFired]
	// rulesMu guards rules, the rule names given a label of their own so far.
	rulesMu sync.Mutex
	rules   map[string]bool
}

// outcome is the label values of one authorize outcome.
type outcome struct{ result, rule string }

// faultFired is the label values of one fault firing.
type faultFired struct{ operation, effect string }

// deliveryResults are the result labels of NameDeliveries, in the order of Metrics.deliveries.
var deliveryResults = [...]string{DeliveryDelivered, DeliveryRetry, DeliveryFailed}

// New returns metrics for one mock of the given version: the mock's own, the Go runtime's and
// the process's, registered in a fresh registry.
func New(version string) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: NameRequests,
			Help: "HTTP requests answered, by operation (the route's operationId) and status code.",
		}, []string{"operation", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    NameRequestDuration,
			Help:    "Time from routing a request to its answer, by operation (the route's operationId).",
			Buckets: requestBuckets,
		}, []string{"operation"}),
		authorize: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: NameAuthorize,
			Help: "Authorize answers, by result (APPROVED, DECLINED, STEP_UP_REQUIRED) and the rule that decided it.",
		}, []string{"result", "rule"}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: NameFaultsFired,
			Help: "Calls a fault (POST /mock/v1/faults) hit, by the call's fault operation and the fault's effect.",
		}, []string{"operation", "effect"}),
		rules: map[string]bool{},
	}
	deliveries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: NameDeliveries,
		Help: "Webhook delivery attempts, by result: delivered, retry (failed, another is scheduled) or failed (given up).",
	}, []string{"result"})
	for i, result := range deliveryResults {
		m.deliveries[i] = deliveries.WithLabelValues(result)
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        NameBuildInfo,
		Help:        "Always 1; its version label is the mock's version, as /readyz and klarna-mock --version report it.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	buildInfo.Set(1)
	m.registry.MustRegister(m.requests, m.duration, m.authorize, deliveries, m.faults, buildInfo,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format (or OpenMetrics, when the scraper
// asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// Registry is the registry the metrics are in, for a test to gather or a caller to add
// collectors of its own to.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Operation is the request metrics of one operation, resolved once (see Metrics.Operation).
type Operation struct {
	name     string
	requests *prometheus.CounterVec
	duration prometheus.Observer
	byStatus labelCache[int]
}

// Operation returns the request metrics of the operation called name: a route's operationId,
// or another name from a fixed set, never a path. Resolve it once, when the route is mounted.
// It returns nil on a nil *Metrics.
func (m *Metrics) Operation(name string) *Operation {
	if m == nil {
		return nil
	}
	return &Operation{name: name, requests: m.requests, duration: m.duration.WithLabelValues(name)}
}

// Observe records one request of the operation answered with status after d.
func (o *Operation) Observe(status int, d time.Duration) {
	if o == nil {
		return
	}
	o.duration.Observe(d.Seconds())
	o.byStatus.get(status, func() prometheus.Counter {
		return o.requests.WithLabelValues(o.name, strconv.Itoa(status))
	}).Inc()
}

// Authorized records an authorize answer: its result (APPROVED, DECLINED or STEP_UP_REQUIRED)
// and the name of the rule that decided it.
func (m *Metrics) Authorized(result, rule string) {
	if m == nil {
		return
	}
	if c, ok := m.outcomes.load(outcome{result, rule}); ok {
		c.Inc()
		return
	}
	// The cache is keyed by label, not by rule, so that rules beyond the cap share one entry.
	key := outcome{result, m.ruleLabel(rule)}
	m.outcomes.get(key, func() prometheus.Counter {
		return m.authorize.WithLabelValues(key.result, key.rule)
	}).Inc()
}

// ruleLabel is the label of rule: its name, while fewer than MaxRuleLabels names have one.
func (m *Metrics) ruleLabel(rule string) string {
	m.rulesMu.Lock()
	defer m.rulesMu.Unlock()
	if !m.rules[rule] {
		if len(m.rules) >= MaxRuleLabels {
			return OtherRule
		}
		m.rules[rule] = true
	}
	return rule
}

// Delivery records a webhook delivery attempt's result: DeliveryDelivered, DeliveryRetry or
// DeliveryFailed. Any other result is a bug of the caller and is not counted.
func (m *Metrics) Delivery(result string) {
	if m == nil {
		return
	}
	for i, r := range deliveryResults {
		if r == result {
			m.deliveries[i].Inc()
			return
		}
	}
}

// FaultFired records a call a fault hit: the call's operation as faults name it (authorize,
// transaction, ...) and the fault's effect (error, latency, hang, drop, truncate). Both come
// from fixed sets, never from what a client sends, so the label values stay few.
func (m *Metrics) FaultFired(operation, effect string) {
	if m == nil {
		return
	}
	key := faultFired{operation, effect}
	if c, ok := m.faultsFired.load(key); ok {
		c.Inc()
		return
	}
	m.faultsFired.get(key, func() prometheus.Counter {
		return m.faults.WithLabelValues(operation, effect)
	}).Inc()
}

// Gauges are what the mock reports by its current state, read at each scrape rather than kept
// up to date on the request path. A nil func leaves its metric out.
type Gauges struct {
	// Tenants is how many tenants the mock serves now.
	Tenants func() int
	// QueueDepth is how many webhook deliveries are queued or waiting for a retry.
	QueueDepth func() int
	// StoredObjects is how many objects the store holds, by kind (the store's table names).
	StoredObjects func() map[string]int
}

// Watch registers g's metrics. Call it once, when the parts that g reads are built.
func (m *Metrics) Watch(g Gauges) error {
	if m == nil {
		return nil
	}
	var cs []prometheus.Collector
	if g.Tenants != nil {
		cs = append(cs, gaugeFunc(NameTenants, "Tenants (API keys, or accounts of the accounts file) the mock serves now.", g.Tenants))
	}
	if g.QueueDepth != nil {
		cs = append(cs, gaugeFunc(NameQueueDepth, "Webhook deliveries queued or waiting for a retry, for all tenants.", g.QueueDepth))
	}
	if g.StoredObjects != nil {
		cs = append(cs, storedObjects(g.StoredObjects))
	}
	for _, c := range cs {
		if err := m.registry.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// gaugeFunc is a gauge whose value f gives at each scrape.
func gaugeFunc(name, help string, f func() int) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return float64(f()) })
}

// storedObjects is a gauge by kind whose values count gives at each scrape.
func storedObjects(count func() map[string]int) prometheus.Collector {
	desc := prometheus.NewDesc(NameStoredObjects, "Objects the store holds, for all tenants, by kind.", []string{"kind"}, nil)
	return prometheus.CollectorFunc(func(ch chan<- prometheus.Metric) {
		for kind, n := range count() {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n), kind)
		}
	})
}

// labelCache keeps the counter of each label value seen, in a map that is copied on every
// addition and read without a lock: label values recur, so additions are rare and lookups are
// the request path.
type labelCache[K comparable] struct {
	mu sync.Mutex // serializes additions
	m  atomic.Pointer[map[K]prometheus.Counter]
}

// load returns k's counter if k was seen before.
func (c *labelCache[K]) load(k K) (prometheus.Counter, bool) {
	m := c.m.Load()
	if m == nil {
		return nil, false
	}
	ctr, ok := (*m)[k]
	return ctr, ok
}

// get returns k's counter, creating it with create the first time k is seen.
func (c *labelCache[K]) get(k K, create func() prometheus.Counter) prometheus.Counter {
	if ctr, ok := c.load(k); ok {
		return ctr
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ctr, ok := c.load(k); ok {
		return ctr
	}
	next := map[K]prometheus.Counter{}
	if old := c.m.Load(); old != nil {
		maps.Copy(next, *old)
	}
	ctr := create()
	next[k] = ctr
	c.m.Store(&next)
	return ctr
}
