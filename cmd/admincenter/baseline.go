//go:build bench

package main

import (
	"flag"
	"log/slog"

	"admincenter/web"
)

// baselineFlag adds serve's --bench-baseline, in benchmark builds only (go
// build -tags bench): the bare handler that bench/domains-page.sh measures
// the Domains page against. The returned func enables it when asked.
func baselineFlag(fs *flag.FlagSet) func(*web.Server) {
	on := fs.Bool("bench-baseline", false, "benchmarks only: serve a bare handler at /bench/baseline/domains?org=ID")
	return func(srv *web.Server) {
		if *on {
			slog.Warn("web: --bench-baseline serves /bench/baseline/ without authentication; use it only to benchmark")
			srv.EnableBaseline()
		}
	}
}
