// Command sweep, the floor of the re-check sweep, sends the same TXT queries as a sweep of domain checks,
// with nothing else: no database, no parsing of proofs. It is the yardstick
// the re-check sweep is measured against (see BENCHMARKS.md).
//
//	go run ./bench/floors/sweep -server 127.0.0.1:5353 -n 10000 -c 16 -name '_twilio.sweep%d.example'
package main

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

func main() {
	server := flag.String("server", "127.0.0.1:53", "DNS server host:port")
	n := flag.Int("n", 10000, "number of queries")
	c := flag.Int("c", 16, "queries in flight at once")
	name := flag.String("name", "_twilio.sweep%d.example", "name to query, with %d for the query's number")
	first := flag.Int("first", 1, "number of the first query")
	flag.Parse()

	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range *c {
		wg.Go(func() {
			client := &dns.Client{Net: "udp", Timeout: 3 * time.Second}
			for {
				i := next.Add(1) - 1
				if i >= int64(*n) {
					return
				}
				m := new(dns.Msg)
				m.SetQuestion(dns.Fqdn(fmt.Sprintf(*name, int64(*first)+i)), dns.TypeTXT)
				m.SetEdns0(1232, false)
				if r, _, err := client.Exchange(m, *server); err != nil || r.Rcode != dns.RcodeSuccess {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	fmt.Printf("%d TXT queries, %d in flight, in %s: %.0f queries/s, %d failed\n",
		*n, *c, elapsed.Round(time.Millisecond), float64(*n)/elapsed.Seconds(), failed.Load())
	if failed.Load() > 0 {
		os.Exit(1)
	}
}
