package api_test

import (
	"context"
	"testing"

	"admincenter/internal/api"
)

// The document is valid OpenAPI 3, so that clients generated from it by
// any tool read it as we do.
func TestDocumentIsValid(t *testing.T) {
	spec, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" || op.Summary == "" || op.Responses.Default() == nil {
				t.Errorf("%s %s needs an operationId, a summary and a default (problem) response", method, path)
			}
		}
	}
}
