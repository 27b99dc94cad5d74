package domains

import "testing"

// SetAtRiskBatch makes the CSV of the users at risk read n users at a
// time until the test ends, so that a few users span several batches.
func SetAtRiskBatch(t testing.TB, n int) {
	old := atRiskBatch
	atRiskBatch = n
	t.Cleanup(func() { atRiskBatch = old })
}
