// Command domainspage is the floor the signed-in Domains page is measured
// against: a minimal net/http and pgx program, written apart from the
// product (its own SQL, its own HTML), that reads one organization's
// domains with the columns the page shows and writes them as plain HTML.
// Nothing it does is skipped by the product and nothing the product adds
// (sessions, authorization, banners, counts) is done here.
//
//	go run ./bench/floors/domainspage -addr 127.0.0.1:18081 -db postgres://… -org 1
package main

import (
	"bufio"
	"context"
	"flag"
	"html"
	"log"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

const query = `SELECT id, unicode_name, status, method, verified_at, last_checked_at, next_check_at
	FROM domains WHERE organization_id = $1 ORDER BY name LIMIT 100`

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "listen address")
	db := flag.String("db", "", "PostgreSQL URL")
	org := flag.Int64("org", 0, "organization id")
	flag.Parse()
	pool, err := pgxpool.New(context.Background(), *db)
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/domains", func(w http.ResponseWriter, r *http.Request) {
		rows, err := pool.Query(r.Context(), query, *org)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer rows.Close()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		b := bufio.NewWriter(w)
		b.WriteString("<!doctype html><title>Domains</title><table>")
		var (
			id                     int64
			name, status, method   string
			verified, checked, due *time.Time
		)
		for rows.Next() {
			if err := rows.Scan(&id, &name, &status, &method, &verified, &checked, &due); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			b.WriteString(`<tr><td><a href="/admin/domains/` + strconv.FormatInt(id, 10) + `">` + html.EscapeString(name) + "</a></td><td>" +
				status + "</td><td>" + method + "</td><td>" + stamp(verified) + "</td><td>" + stamp(checked) + "</td><td>" + stamp(due) + "</td></tr>")
		}
		b.WriteString("</table>")
		b.Flush()
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}

func stamp(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}
