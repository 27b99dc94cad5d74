// Package migrations holds the versioned SQL schema, one folder per
// dialect. Migrations are append-only: never edit one that has shipped.
package migrations

import "embed"

// FS holds postgres/*.sql and sqlite/*.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS
