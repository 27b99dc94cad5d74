// Package api is the JSON API under /api/v1: the OpenAPI document
// (openapi.yaml) is its source of truth; oapi-codegen generates the Echo
// routing and the types from it, and every request is validated against it
// (kin-openapi) before a handler sees it.
package api

//go:generate go tool oapi-codegen -config oapi-codegen.yaml openapi.yaml
