//go:build !bench

package main

import (
	"flag"

	"admincenter/web"
)

// baselineFlag adds nothing to the product binary: --bench-baseline exists
// only in benchmark builds (baseline.go).
func baselineFlag(*flag.FlagSet) func(*web.Server) { return func(*web.Server) {} }
