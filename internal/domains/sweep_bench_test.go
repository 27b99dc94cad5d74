package domains_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"admincenter/internal/clock"
	"admincenter/internal/domains"
	"admincenter/internal/testdb"
	"admincenter/internal/testnet"
	"admincenter/internal/verify"
)

// BenchmarkSweep re-checks verified domains that all fall due at once, on
// PostgreSQL, against a DNS server on loopback. bench/recheck-sweep.sh is
// the load test of record; this one is for profiling.
func BenchmarkSweep(b *testing.B) {
	const n = 2000
	db := testdb.Postgres(b)
	dns := testnet.StartDNS(b)
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	if err := db.Exec("INSERT INTO organizations (name, created_at) VALUES ('Sweep Corp', ?)", clk.Now()).Error; err != nil {
		b.Fatal(err)
	}
	var org int64
	db.Raw("SELECT id FROM organizations").Scan(&org)
	now := clk.Now()
	list := make([]domains.Domain, n)
	for i := range list {
		name := fmt.Sprintf("sweep%d.example", i)
		list[i] = domains.Domain{OrganizationID: org, Name: name, UnicodeName: name, Token: fmt.Sprintf("twilio-domain-verification=%032x", i),
			FileName: fmt.Sprintf("f%d.html", i), Method: verify.DNS, Status: domains.Verified, VerifiedAt: &now, VerifiedMethod: verify.DNS,
			NextCheckAt: &now, CreatedAt: now}
		dns.Add(b, fmt.Sprintf(`_twilio.%s. 300 IN TXT "%s"`, name, list[i].Token))
	}
	if err := db.CreateInBatches(list, 500).Error; err != nil {
		b.Fatal(err)
	}
	checker, err := verify.New(verify.Config{DNSServers: []string{dns.Addr}, AllowPrivate: true})
	if err != nil {
		b.Fatal(err)
	}
	s := &domains.Service{DB: db, Now: clk.Now, Checker: checker, Providers: domains.DefaultBlocklist(),
		RecheckInterval: 24 * time.Hour, PropagationWindow: 72 * time.Hour, GracePeriod: 720 * time.Hour, InconclusiveLimit: 72 * time.Hour}
	b.ResetTimer()
	for range b.N {
		clk.Advance(25 * time.Hour)
		got, err := s.RunDue(context.Background(), 16)
		if err != nil || got != n {
			b.Fatalf("checked %d, %v", got, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "checks/s")
}
