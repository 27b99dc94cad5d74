package mail

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"
)

// Metrics are the outbox's Prometheus series.
type Metrics struct {
	attempts *prometheus.CounterVec
	outbox   *outboxCollector
}

// NewMetrics returns the series; register Collectors with a registry.
func NewMetrics(db *gorm.DB) *Metrics {
	return &Metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "admincenter_mail_attempts_total",
			Help: "Delivery attempts by this instance, by outcome: sent, retry (failed for now, tried again later) or failed (given up).",
		}, []string{"outcome"}),
		outbox: &outboxCollector{db: db, desc: prometheus.NewDesc("admincenter_mail_outbox",
			"Unsent messages in the outbox by state: pending (to be sent or retried) or failed (given up; `admincenter mail retry --failed` sends them again).",
			[]string{"state"}, nil)},
	}
}

// Collectors returns everything to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.attempts, m.outbox}
}

func (m *Metrics) observe(outcome string) {
	if m != nil {
		m.attempts.WithLabelValues(outcome).Inc()
	}
}

// outboxCollector counts the outbox when scraped, from the database, so
// that every instance reports the same.
type outboxCollector struct {
	db   *gorm.DB
	desc *prometheus.Desc
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// Each condition is the one of a partial index.
	for _, state := range []struct{ name, where string }{
		{"pending", "sent_at IS NULL AND failed_at IS NULL"},
		{"failed", "failed_at IS NOT NULL"},
	} {
		var n int64
		if err := c.db.WithContext(ctx).Model(&Message{}).Where(state.where).Count(&n).Error; err != nil {
			ch <- prometheus.NewInvalidMetric(c.desc, err)
			return
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), state.name)
	}
}
