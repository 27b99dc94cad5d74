package testdb

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// CountStatements counts the statements run on db from now on until the
// test ends, as GORM's logger traces them: every statement GORM runs, and
// the hot reads that bypass it (database.Read), which trace themselves.
func CountStatements(t testing.TB, db *gorm.DB) *atomic.Int64 {
	t.Helper()
	c := &statementCounter{Interface: db.Logger}
	db.Logger = c
	t.Cleanup(func() { db.Logger = c.Interface })
	return &c.n
}

type statementCounter struct {
	logger.Interface
	n atomic.Int64
}

func (c *statementCounter) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	c.n.Add(1)
	c.Interface.Trace(ctx, begin, fc, err)
}
