package domains_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"admincenter/internal/domains"
	"admincenter/internal/testdb"
	"admincenter/internal/verify"
)

// scrape gathers the registry as /metrics would, as "name label=value..."
// → value; a histogram gives its sample count.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += " " + l.GetName() + "=" + l.GetValue()
			}
			switch {
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[key] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[key+" count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// The metrics count the checks by method and outcome as they are recorded,
// the domains by state, and the due work found by Backlog.
func TestMetrics(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		f.svc.Metrics = domains.NewMetrics(db)
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(f.svc.Metrics.Collectors(f.svc)...)

		_, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
		f.verifiedBy(t, owner, "acme.test", verify.DNS)      // dns found, https absent
		f.verifiedBy(t, owner, "eu.acme.test", verify.HTTPS) // https found, dns absent
		shared := f.verifiedBy(t, owner, "shared.test", verify.DNS)
		pending := f.add(t, owner, "globex.test")
		if _, _, err := f.svc.Verify(f.ctx, owner.ID, pending.ID, verify.DNS); err != nil { // both absent
			t.Fatal(err)
		}
		failed := f.add(t, owner, "initech.test")
		f.setStatus(t, failed.ID, domains.Failed)
		if n, err := f.svc.Backlog(f.ctx); err != nil || n != 0 {
			t.Fatalf("Backlog = %d, %v", n, err)
		}
		wantScrape(t, reg, map[string]float64{
			"admincenter_domain_checks_total method=dns outcome=found":    2,
			"admincenter_domain_checks_total method=dns outcome=absent":   2,
			"admincenter_domain_checks_total method=https outcome=found":  1,
			"admincenter_domain_checks_total method=https outcome=absent": 3,
			"admincenter_domains state=pending":                           1,
			"admincenter_domains state=verified":                          3,
			"admincenter_domains state=revalidating":                      0,
			"admincenter_domains state=failed":                            1,
			"admincenter_domain_checks_due":                               0,
		})

		// A day later four domains are due: the three verified ones and the
		// pending one.
		f.withdrawProof(shared)
		f.clk.Advance(recheck)
		if n, err := f.svc.Backlog(f.ctx); err != nil || n != 4 {
			t.Fatalf("Backlog = %d, %v", n, err)
		}
		if got := scrape(t, reg)["admincenter_domain_checks_due"]; got != 4 {
			t.Fatalf("admincenter_domain_checks_due = %v", got)
		}
		f.runDue(t)
		f.dns.Set(dns.RcodeServerFailure, false)
		if _, err := f.svc.Recheck(f.ctx, "acme.test"); err != nil { // both inconclusive
			t.Fatal(err)
		}
		f.dns.Set(0, false)
		if n, err := f.svc.Backlog(f.ctx); err != nil || n != 0 {
			t.Fatalf("Backlog after RunDue = %d, %v", n, err)
		}
		wantScrape(t, reg, map[string]float64{
			"admincenter_domain_checks_total method=dns outcome=found":          3, // + acme.test
			"admincenter_domain_checks_total method=dns outcome=absent":         4, // + shared.test, globex.test
			"admincenter_domain_checks_total method=dns outcome=inconclusive":   1,
			"admincenter_domain_checks_total method=https outcome=found":        2, // + eu.acme.test
			"admincenter_domain_checks_total method=https outcome=absent":       5, // + shared.test, globex.test
			"admincenter_domain_checks_total method=https outcome=inconclusive": 1,
			"admincenter_domains state=pending":                                 1,
			"admincenter_domains state=verified":                                2,
			"admincenter_domains state=revalidating":                            1,
			"admincenter_domains state=failed":                                  1,
			"admincenter_domain_checks_due":                                     0,
		})

		// The counters agree with the checks recorded, and each check was
		// timed.
		var rows []struct {
			Method  string
			Outcome string
			N       float64
		}
		db.Model(&domains.Check{}).Select("method, outcome, COUNT(*) AS n").Group("method, outcome").Scan(&rows)
		got := scrape(t, reg)
		perMethod := map[string]float64{}
		for _, r := range rows {
			if key := fmt.Sprintf("admincenter_domain_checks_total method=%s outcome=%s", r.Method, r.Outcome); got[key] != r.N {
				t.Errorf("%s = %v, but %v such checks are recorded", key, got[key], r.N)
			}
			perMethod[r.Method] += r.N
		}
		for method, n := range perMethod {
			if key := "admincenter_domain_check_duration_seconds method=" + method + " count"; got[key] != n {
				t.Errorf("%s = %v, want %v", key, got[key], n)
			}
		}
	})
}

// wantScrape checks the series of the checks, states and backlog.
func wantScrape(t *testing.T, reg *prometheus.Registry, want map[string]float64) {
	t.Helper()
	got := scrape(t, reg)
	maps.DeleteFunc(got, func(k string, _ float64) bool {
		return strings.HasPrefix(k, "admincenter_domain_check_duration_seconds")
	})
	if !maps.Equal(got, want) {
		t.Fatalf("scraped %v\nwant %v", got, want)
	}
}
