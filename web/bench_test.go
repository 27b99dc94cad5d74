package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"admincenter/internal/domains"
	"admincenter/internal/testdb"
)

// BenchmarkDomainsPage measures the signed-in Domains page of an
// organization with 100 domains on PostgreSQL. BENCHMARKS.md has the load
// test with wrk; this one is for profiling.
func BenchmarkDomainsPage(b *testing.B) {
	db := testdb.Postgres(b)
	a := newApp(b, db)
	var org int64
	db.Raw("SELECT id FROM organizations WHERE name = 'Acme Corp'").Scan(&org)
	for i := range 100 {
		d := domains.Domain{OrganizationID: org, Name: fmt.Sprintf("bench%d.example", i), UnicodeName: fmt.Sprintf("bench%d.example", i),
			Token: fmt.Sprintf("twilio-domain-verification=%032d", i), FileName: fmt.Sprintf("f%d.html", i), Method: "dns", Status: domains.Verified}
		if err := db.Create(&d).Error; err != nil {
			b.Fatal(err)
		}
	}
	jar := a.client()
	jar.post("/login", url.Values{"email": {"owner@acme.test"}, "password": {"demo-password"}})
	u, _ := url.Parse(a.url)
	cookie := jar.http.Jar.Cookies(u)[0]
	req := func() {
		r, _ := http.NewRequest(http.MethodGet, a.url+"/admin/domains", nil)
		r.AddCookie(cookie)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "bench99.example") {
			b.Fatalf("%d", resp.StatusCode)
		}
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req()
		}
	})
}
