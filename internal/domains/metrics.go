package domains

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"
)

// Metrics are the domain checks' Prometheus series.
type Metrics struct {
	checks  *prometheus.CounterVec
	latency *prometheus.HistogramVec
	states  *stateCollector
}

// NewMetrics returns the series; register Collectors with a registry.
func NewMetrics(db *gorm.DB) *Metrics {
	return &Metrics{
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "admincenter_domain_checks_total",
			Help: "Domain checks by method and outcome.",
		}, []string{"method", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "admincenter_domain_check_duration_seconds",
			Help:    "Duration of one domain check by method.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method"}),
		states: &stateCollector{db: db, desc: prometheus.NewDesc("admincenter_domains",
			"Domains by state.", []string{"state"}, nil)},
	}
}

// Collectors returns everything to register, with the backlog of s
// counted when scraped (not on every tick, where counting every due row
// would cost more than the checks).
func (m *Metrics) Collectors(s *Service) []prometheus.Collector {
	backlog := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "admincenter_domain_checks_due",
		Help: "Domain work (checks, reminders, expiries) that is due and not yet claimed.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := s.Backlog(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	return []prometheus.Collector{m.checks, m.latency, backlog, m.states}
}

func (m *Metrics) observe(r Report) {
	if m == nil {
		return
	}
	for _, res := range r.Results {
		m.checks.WithLabelValues(string(res.Method), string(res.Outcome)).Inc()
		m.latency.WithLabelValues(string(res.Method)).Observe(res.Duration.Seconds())
	}
}

// stateCollector counts domains by state when scraped.
type stateCollector struct {
	db   *gorm.DB
	desc *prometheus.Desc
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var rows []struct {
		Status Status
		N      int64
	}
	if err := c.db.WithContext(ctx).Model(&Domain{}).Select("status, COUNT(*) AS n").Group("status").Scan(&rows).Error; err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	counts := map[Status]int64{}
	for _, r := range rows {
		counts[r.Status] = r.N
	}
	for _, st := range []Status{Pending, Verified, Revalidating, Failed} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
}
