package database_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"gorm.io/gorm"

	"admincenter/internal/database"
	"admincenter/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func TestCheckSchema(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		if err := database.CheckSchema(ctx, db); err != nil {
			t.Fatalf("fresh schema: %v", err)
		}
		// A newer release has migrated this database further.
		if err := db.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)").Error; err != nil {
			t.Fatal(err)
		}
		err := database.CheckSchema(ctx, db)
		if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
			t.Fatalf("newer schema: %v", err)
		}
	})
}

func TestSecretIsGeneratedOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		a, err := database.Secret(ctx, db, "session_secret")
		if err != nil {
			t.Fatal(err)
		}
		b, err := database.Secret(ctx, db, "session_secret")
		if err != nil || a != b || len(a) != 64 {
			t.Fatalf("secrets %q and %q (%v)", a, b, err)
		}
	})
}
