package database

import (
	"database/sql"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// Read runs the read query (written with ? for its args) and calls each
// with every row's Scan, for the hot reads that scan by hand. On
// PostgreSQL it runs through pgx itself: its rows scan straight into the
// destinations, where database/sql first converts every value to a
// driver.Value and then assigns it again (a third of the Domains page's
// CPU; see BENCHMARKS.md). On SQLite, and inside a transaction, it runs
// through database/sql. Either way GORM's logger traces it once.
func Read(db *gorm.DB, query string, args []any, each func(scan func(dest ...any) error) error) error {
	q := db.Raw(query, args...) // GORM writes the dialect's placeholders
	if q.Error != nil {
		return q.Error
	}
	pool, ok := db.Statement.ConnPool.(*sql.DB) // not a transaction's
	if IsSQLite(db) || !ok {
		return readRows(q, each)
	}
	ctx, text, vars := q.Statement.Context, q.Statement.SQL.String(), q.Statement.Vars
	begin, n := time.Now(), int64(0)
	conn, err := pool.Conn(ctx)
	if err == nil {
		err = conn.Raw(func(driverConn any) error {
			c, ok := driverConn.(*stdlib.Conn)
			if !ok {
				return errors.New("database: a PostgreSQL connection not from pgx")
			}
			rows, err := c.Conn().Query(ctx, text, vars...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				n++
				if err := each(rows.Scan); err != nil {
					return err
				}
			}
			return rows.Err()
		})
		conn.Close()
	}
	db.Logger.Trace(ctx, begin, func() (string, int64) { return db.Dialector.Explain(text, vars...), n }, err)
	return err
}

// readRows is Read through database/sql, GORM's own way.
func readRows(q *gorm.DB, each func(scan func(dest ...any) error) error) error {
	rows, err := q.Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
