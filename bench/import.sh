#!/usr/bin/env bash
# Benchmarks Bulk User Import on PostgreSQL: for each size, a fresh
# database with the demo data and SIZE more people who signed up on their
# own at acme.test (all eligible, with 1 to 3 accounts each); the Owner
# asks, through the page's form, for every eligible user to be imported
# without review. Reports the wall time of report plus import, the
# server's peak RSS, and the download of the report's CSV with the peak
# RSS of that download alone.
#
#   bench/import.sh                 # SIZES="10000 100000"
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"10000 100000"}
. bench/lib.sh

start_database
kb() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$server/status"; }
for n in $SIZES; do
  # A fresh database for each size.
  [ -n "$server" ] && kill "$server" && wait "$server" 2>/dev/null || true
  server=
  psql -c 'DROP DATABASE bench' -c 'CREATE DATABASE bench'
  "$work/admincenter" demo >/dev/null 2>&1
  psql -d bench -c "
    INSERT INTO users (email, name, password_hash, email_verified_at, sessions_valid_after, created_at)
    SELECT 'bulk' || i || '@acme.test', 'Bulk User ' || i, 'x', now(), now(), now() - interval '1 day'
    FROM generate_series(1, $n) AS i" \
    -c "
    INSERT INTO accounts (id, name, owner_id, created_at)
    SELECT 'AC' || md5(u.id || '-' || k), 'Project ' || k, u.id, now()
    FROM users u, generate_series(1, 3) AS k
    WHERE u.email LIKE 'bulk%' AND k <= 1 + u.id % 3" -c 'VACUUM ANALYZE'
  accounts=$(psql -d bench -tAc "SELECT COUNT(*) FROM accounts a JOIN users u ON u.id = a.owner_id WHERE u.email LIKE 'bulk%'")
  domain=$(psql -d bench -tAc "SELECT id FROM domains WHERE name = 'acme.test'")

  start_server
  sign_in
  page="http://$ADDR/admin/domains/$domain"
  csrf=$(curl -fs -H "Cookie: $cookie" "$page" | grep -o 'name="_csrf" value="[^"]*"' | head -n 1 | cut -d'"' -f4)
  idle_rss=$(kb VmRSS)
  curl -fs -o /dev/null -H "Cookie: $cookie" --data-urlencode "_csrf=$csrf" --data-urlencode mode=all "$page/imports"
  import=$(psql -d bench -tAc "SELECT max(id) FROM imports")
  until [ "$(psql -d bench -tAc "SELECT status FROM imports WHERE id = $import")" = completed ]; do sleep 0.2; done
  read -r imported seconds report_s import_s < <(psql -d bench -tAc "SELECT imported,
    round(EXTRACT(EPOCH FROM finished_at - created_at)::numeric, 2), round(EXTRACT(EPOCH FROM started_at - created_at)::numeric, 2),
    round(EXTRACT(EPOCH FROM finished_at - started_at)::numeric, 2) FROM imports WHERE id = $import" | tr '|' ' ')
  peak=$(kb VmHWM)

  echo 5 >"/proc/$server/clear_refs" # the peak RSS starts again from the current RSS
  before=$(kb VmRSS)
  csv_seconds=$( { /usr/bin/time -f %e curl -fs -o "$work/report.csv" -H "Cookie: $cookie" "$page/imports/$import/report.csv"; } 2>&1)
  csv_peak=$(kb VmHWM)
  rows=$(($(wc -l <"$work/report.csv") - 1))

  echo "== $n users ($accounts accounts)"
  echo "report + import: $imported users imported in ${seconds}s ($(echo "$imported / $seconds" | bc) users/s): report ${report_s}s, import ${import_s}s"
  echo "server RSS: ${idle_rss} kB idle, peak ${peak} kB"
  echo "CSV: $rows rows, $(du -k "$work/report.csv" | cut -f1) kB in ${csv_seconds}s; RSS ${before} kB before, peak ${csv_peak} kB during the download"
  echo "Server errors logged: $(grep -c '"level":"ERROR"' "$work/server.log" || true)"
done
