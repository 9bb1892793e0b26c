// Package metrics owns minwon's Prometheus metrics: one private registry
// (with the Go runtime and process collectors), every metric's name, help
// and labels, the HTTP middleware that times requests by route pattern,
// and the handler that serves them on the admin listener. Domain packages
// never import Prometheus: each declares a small observer interface where
// the thing happens (issuance.Observer, linkage.Observer,
// auth.LoginObserver) and *Metrics implements them all; state that already
// lives somewhere (breakers, the log's checkpoint, the notice outbox) is
// read at scrape time through Sources.
//
// Labels are bounded by construction: routes are ServeMux patterns, never
// raw paths; services, rules, agencies and outcomes are closed sets. No
// label ever holds a subject, a number or a login.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every minwon metric.
const Namespace = "minwon"

// Metrics is minwon's set of metrics. Its methods are safe for concurrent
// use and cheap (no allocation on the hot path once a label set exists).
type Metrics struct {
	reg *prometheus.Registry

	httpDuration    *prometheus.HistogramVec
	issuances       *prometheus.CounterVec
	issueDuration   *prometheus.HistogramVec
	refusals        *prometheus.CounterVec
	linkageDuration *prometheus.HistogramVec
	appendDuration  prometheus.Histogram
	loginFailures   prometheus.Counter
	loginThrottled  prometheus.Counter
}

// Known are the closed label sets, created at zero at start so that every
// series exists (and alerts on rates see it) before its first event. The
// domain packages own them (issuance.Outcomes, issuance.Rules,
// linkage.Outcomes); the app passes them in.
type Known struct {
	Services        []string // issuable service ids
	Outcomes        []string // issuance outcomes
	Rules           []string // pre-issuance rules
	Agencies        []string
	LinkageOutcomes []string
}

// New returns the metrics, registered on a fresh registry.
func New(k Known) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
		Help:    "Time to answer an HTTP request, by listener, route pattern and status code.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"listener", "route", "code"})
	m.issuances = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "issuances_total",
		Help: "Issuance requests by service and outcome (issued, replayed, refused, not_issuable, unavailable, denied, rate_limited, bad_request, error).",
	}, []string{"service", "outcome"})
	m.issueDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "issuance_duration_seconds",
		Help:    "Time from request to issued document (agency calls, render, sign, log append), by service.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"service"})
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "preissuance_refusals_total",
		Help: "Documents refused by pre-issuance verification, by rule.",
	}, []string{"rule"})
	m.linkageDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "linkage", Name: "request_duration_seconds",
		Help:    "Time of one call to an agency (all attempts), by agency and outcome.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"agency", "outcome"})
	m.appendDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "doclog", Name: "append_duration_seconds",
		Help:    "Time for an issued document and its log entry to become durable (group commit).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})
	m.loginFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "login", Name: "failures_total",
		Help: "Portal logins refused for a wrong login or password.",
	})
	m.loginThrottled = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "login", Name: "throttled_total",
		Help: "Portal logins refused by the login limiter before the password was checked.",
	})
	m.reg.MustRegister(m.httpDuration, m.issuances, m.issueDuration, m.refusals, m.linkageDuration, m.appendDuration, m.loginFailures, m.loginThrottled)
	for _, s := range k.Services {
		for _, o := range k.Outcomes {
			m.issuances.WithLabelValues(s, o)
		}
		m.issueDuration.WithLabelValues(s)
	}
	for _, r := range k.Rules {
		m.refusals.WithLabelValues(r)
	}
	for _, a := range k.Agencies {
		for _, o := range k.LinkageOutcomes {
			m.linkageDuration.WithLabelValues(a, o)
		}
	}
	return m
}

// Registry is the registry the metrics live in (for tests and for Gather).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format. Errors while
// gathering are logged, and the metrics that could be gathered are served.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	opts := promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Registry: m.reg}
	if log != nil {
		opts.ErrorLog = slogPrinter{log}
	}
	return promhttp.HandlerFor(m.reg, opts)
}

type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Warn("metrics", "err", v) }

// Issued implements issuance.Observer: one issuance request ended with
// outcome after took.
func (m *Metrics) Issued(service, outcome string, took time.Duration) {
	m.issuances.WithLabelValues(service, outcome).Inc()
	if outcome == "issued" {
		m.issueDuration.WithLabelValues(service).Observe(took.Seconds())
	}
}

// Refused implements issuance.Observer: pre-issuance verification refused
// a document under rule.
func (m *Metrics) Refused(rule string) { m.refusals.WithLabelValues(rule).Inc() }

// LogAppended implements issuance.Observer: an issued document and its log
// entry became durable after took.
func (m *Metrics) LogAppended(took time.Duration) { m.appendDuration.Observe(took.Seconds()) }

// AgencyCall implements linkage.Observer.
func (m *Metrics) AgencyCall(agency, outcome string, took time.Duration) {
	m.linkageDuration.WithLabelValues(agency, outcome).Observe(took.Seconds())
}

// LoginFailed implements auth.LoginObserver.
func (m *Metrics) LoginFailed() { m.loginFailures.Inc() }

// LoginThrottled implements auth.LoginObserver.
func (m *Metrics) LoginThrottled() { m.loginThrottled.Inc() }

// Sources are the states read at scrape time. Any may be nil.
type Sources struct {
	// Breakers returns each agency's circuit-breaker state (closed, open,
	// half_open).
	Breakers func() map[string]string
	// BreakerStates is every state Breakers may return: each agency gets a
	// series per state, 1 for the current one.
	BreakerStates []string
	// CheckpointTime returns when the newest log checkpoint was signed.
	CheckpointTime func() time.Time
	// PendingNotices counts the notices in the outbox not yet delivered.
	PendingNotices func(ctx context.Context) (int64, error)
	// WaitingApplications counts the applications and reports whose job
	// waits for each agency (tried, and to be tried again).
	WaitingApplications func(ctx context.Context) (map[string]int, error)
	Now                 func() time.Time
}

// Watch registers the scrape-time metrics read from src.
func (m *Metrics) Watch(src Sources) {
	m.reg.MustRegister(&sourceCollector{src: src})
}

var (
	breakerDesc = prometheus.NewDesc(Namespace+"_linkage_breaker_state",
		"Circuit-breaker state per agency: 1 for the current state, 0 for the others.", []string{"agency", "state"}, nil)
	checkpointAgeDesc = prometheus.NewDesc(Namespace+"_doclog_checkpoint_age_seconds",
		"Age of the newest signed checkpoint of the transparency log.", nil, nil)
	pendingDesc = prometheus.NewDesc(Namespace+"_notify_outbox_pending",
		"Notices to citizens queued in the outbox and not yet delivered.", nil, nil)
	waitingDesc = prometheus.NewDesc(Namespace+"_casework_waiting",
		"Applications and reports whose agency step failed and waits to be tried again, per agency.", []string{"agency"}, nil)
)

type sourceCollector struct{ src Sources }

func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- breakerDesc
	ch <- checkpointAgeDesc
	ch <- pendingDesc
	ch <- waitingDesc
}

func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now
	if c.src.Now != nil {
		now = c.src.Now
	}
	if c.src.Breakers != nil {
		for agency, cur := range c.src.Breakers() {
			for _, st := range c.src.BreakerStates {
				v := 0.0
				if st == cur {
					v = 1
				}
				ch <- prometheus.MustNewConstMetric(breakerDesc, prometheus.GaugeValue, v, agency, st)
			}
		}
	}
	if c.src.CheckpointTime != nil {
		if at := c.src.CheckpointTime(); !at.IsZero() {
			ch <- prometheus.MustNewConstMetric(checkpointAgeDesc, prometheus.GaugeValue, now().Sub(at).Seconds())
		}
	}
	if c.src.PendingNotices != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if n, err := c.src.PendingNotices(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(n))
		} else {
			ch <- prometheus.NewInvalidMetric(pendingDesc, err)
		}
	}
	if c.src.WaitingApplications != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if byAgency, err := c.src.WaitingApplications(ctx); err == nil {
			for agency, n := range byAgency {
				ch <- prometheus.MustNewConstMetric(waitingDesc, prometheus.GaugeValue, float64(n), agency)
			}
		} else {
			ch <- prometheus.NewInvalidMetric(waitingDesc, err)
		}
	}
}
