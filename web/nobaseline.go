//go:build !bench

package web

import "net/http"

// baseline is empty in the product binary: the bare handler that the
// Domains page's benchmark compares it with, unauthenticated by design, is
// built only with -tags bench (baseline.go).
type baseline struct{}

func (baseline) serve(http.ResponseWriter, *http.Request) bool { return false }
