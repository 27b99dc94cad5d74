#!/usr/bin/env bash
# Benchmarks Bulk User Import on PostgreSQL against its floors. For each
# size, a database with the demo data and SIZE more people who signed up on
# their own at acme.test (all eligible, with 1 to 3 accounts each) is kept
# as a template; every run starts from a fresh copy of it. PAIRS times,
# back to back:
#   - the product: the Owner asks, through the domain page's form, for
#     every eligible user to be imported without review; the time is the
#     import's own record (created -> report ready -> finished);
#   - the floor, bench/floors/import/import.sql: the same data movement in
#     plain SQL, in the same transactions, run by psql.
# Then, on the product's completed import, PAIRS pairs of the report's CSV
# download against its floor, bench/floors/reportcsv/report.sql (psql's
# \copy of the same columns). Prints each pair's ratio and their median,
# and the server's peak RSS (VmHWM) during the import and during the
# download alone (reset before it with clear_refs).
#
#   bench/import.sh                 # SIZES="10000 100000" PAIRS=3
#   PROFILE=30 bench/import.sh      # and a CPU profile of the server's first import, 30 s
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"10000 100000"}
PAIRS=${PAIRS:-3}
PROFILE=${PROFILE:-}
DEBUG_ADDR=${DEBUG_ADDR:-127.0.0.1:16060}
. bench/lib.sh

start_database
kb() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$server/status"; }
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
now() { date +%s.%N; }
since() { echo "scale=2; ($(now) - $1) / 1" | bc; }
ratio() { echo "scale=2; $1 / $2" | bc; }
stop_server() { [ -n "$server" ] && kill "$server" && wait "$server" 2>/dev/null || true; server=; }
# fresh: the benchmark's database, a new copy of the size's template.
# The checkpoint writes the copy out first, so that each run starts with the
# disk idle.
fresh() { psql -c 'DROP DATABASE IF EXISTS bench WITH (FORCE)' -c 'CREATE DATABASE bench TEMPLATE bench_template' -c CHECKPOINT; }
# check_import ID: the import took every eligible user, each audited and emailed once.
check_import() {
  local got
  got=$(psql -d bench -tAc "SELECT (SELECT imported FROM imports WHERE id = $1),
      (SELECT COUNT(*) FROM import_users WHERE import_id = $1 AND outcome = 'imported'),
      (SELECT COUNT(*) FROM users WHERE email LIKE 'bulk%' AND organization_id = $org),
      (SELECT COUNT(*) FROM accounts a JOIN users u ON u.id = a.owner_id WHERE u.email LIKE 'bulk%' AND a.organization_id = $org),
      (SELECT COUNT(DISTINCT target_id) || '/' || COUNT(*) FROM audit_log WHERE action = 'user.imported'),
      (SELECT COUNT(DISTINCT recipient) || '/' || COUNT(*) FROM outbox WHERE subject = 'You are now managed by Acme Corp')")
  [ "$got" = "$want" ] || { echo "import $1: imported|rows|users|accounts|audit|emails = $got, want $want"; exit 1; }
}

peaks=()
for n in $SIZES; do
  # The size's template: the demo data and the people who signed up.
  stop_server
  psql -c 'DROP DATABASE IF EXISTS bench_template' -c 'DROP DATABASE IF EXISTS bench WITH (FORCE)' -c 'CREATE DATABASE bench'
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
  org=$(psql -d bench -tAc "SELECT id FROM organizations WHERE name = 'Acme Corp'")
  eligible=$(psql -d bench -tAc "SELECT COUNT(*) FROM users WHERE email LIKE '%@acme.test' AND organization_id IS NULL AND deactivated_at IS NULL AND email_verified_at IS NOT NULL")
  want="$eligible|$eligible|$n|$accounts|$eligible/$eligible|$eligible/$eligible"
  psql -c 'ALTER DATABASE bench RENAME TO bench_template'

  echo "== $n users ($accounts accounts), $eligible eligible: report + import, $PAIRS pairs (product, then floor)"
  ratios=() size_peak=0
  for i in $(seq "$PAIRS"); do
    fresh
    flags=()
    [ -n "$PROFILE" ] && [ "$i" = 1 ] && flags=(--debug-addr "$DEBUG_ADDR")
    start_server "${flags[@]}"
    sign_in
    page="http://$ADDR/admin/domains/$domain"
    csrf=$(curl -fs -H "Cookie: $cookie" "$page" | grep -o 'name="_csrf" value="[^"]*"' | head -n 1 | cut -d'"' -f4)
    idle_rss=$(kb VmRSS)
    if [ -n "$PROFILE" ] && [ "$i" = 1 ]; then
      curl -fs -o "$work/cpu-$n.pprof" "http://$DEBUG_ADDR/debug/pprof/profile?seconds=$PROFILE" &
      extra_pids+=($!)
    fi
    curl -fs -o /dev/null -H "Cookie: $cookie" --data-urlencode "_csrf=$csrf" --data-urlencode mode=all "$page/imports"
    import=$(psql -d bench -tAc "SELECT max(id) FROM imports")
    until [ "$(psql -d bench -tAc "SELECT status FROM imports WHERE id = $import")" = completed ]; do sleep 0.1; done
    read -r seconds report_s import_s < <(psql -d bench -tAc "SELECT
      round(EXTRACT(EPOCH FROM finished_at - created_at)::numeric, 2), round(EXTRACT(EPOCH FROM started_at - created_at)::numeric, 2),
      round(EXTRACT(EPOCH FROM finished_at - started_at)::numeric, 2) FROM imports WHERE id = $import" | tr '|' ' ')
    peak=$(kb VmHWM)
    size_peak=$((peak > size_peak ? peak : size_peak))
    check_import "$import"
    errors=$(grep -c '"level":"ERROR"' "$work/server.log" || true)
    [ "$errors" = 0 ] || { echo "the server logged $errors errors"; grep '"level":"ERROR"' "$work/server.log" | head; exit 1; }
    if [ -n "$PROFILE" ] && [ "$i" = 1 ]; then
      wait "${extra_pids[-1]}"
      go tool pprof -top "$work/admincenter" "$work/cpu-$n.pprof" 2>/dev/null | head -n 40 >"$work/cpu-$n.txt"
      cp "$work/cpu-$n.pprof" "$work/cpu-$n.txt" /tmp/
      echo "CPU profile of the server: /tmp/cpu-$n.pprof, top in /tmp/cpu-$n.txt"
    fi
    stop_server

    # The floor, on a fresh copy.
    if [ "$i" = "$PAIRS" ]; then
      # The CSV pairs read the last product run's report.
      keep_import=$import
      psql -c 'ALTER DATABASE bench RENAME TO bench_product'
    fi
    fresh
    t0=$(now)
    psql -d bench -v domain=acme.test -f bench/floors/import/import.sql
    floor=$(since "$t0")
    floor_import=$(psql -d bench -tAc "SELECT max(id) FROM imports")
    check_import "$floor_import"
    read -r floor_report_s floor_import_s < <(psql -d bench -tAc "SELECT round(EXTRACT(EPOCH FROM started_at - created_at)::numeric, 2),
      round(EXTRACT(EPOCH FROM finished_at - started_at)::numeric, 2) FROM imports WHERE id = $floor_import" | tr '|' ' ')
    ratios+=("$(ratio "$seconds" "$floor")")
    echo "pair $i: product ${seconds}s (report ${report_s}s, import ${import_s}s; RSS ${idle_rss} kB idle, peak ${peak} kB)" \
      "| floor ${floor}s (report ${floor_report_s}s, import ${floor_import_s}s) | ${ratios[-1]}x"
  done
  peaks+=("$size_peak")
  echo "median: $(median "${ratios[@]}")x of the floor (goal <= 1.5); peak RSS ${size_peak} kB"

  # The CSV pairs, on the product's last import.
  psql -c 'DROP DATABASE bench' -c 'ALTER DATABASE bench_product RENAME TO bench'
  start_server
  sign_in
  url="http://$ADDR/admin/domains/$domain/imports/$keep_import/report.csv"
  curl -fs -o /dev/null -H "Cookie: $cookie" "$url" # warm up both
  psql -d bench -v import="$keep_import" -f bench/floors/reportcsv/report.sql >/dev/null
  csv_ratios=() csv_peak=0
  echo "== report CSV of import $keep_import, $PAIRS pairs (product, then floor)"
  for i in $(seq "$PAIRS"); do
    echo 5 >"/proc/$server/clear_refs" # the peak RSS starts again from the current RSS
    before=$(kb VmRSS)
    t0=$(now)
    curl -fs -o "$work/report.csv" -H "Cookie: $cookie" "$url"
    product=$(since "$t0")
    peak=$(kb VmHWM)
    csv_peak=$((peak > csv_peak ? peak : csv_peak))
    t0=$(now)
    psql -d bench -v import="$keep_import" -f bench/floors/reportcsv/report.sql >"$work/floor.csv"
    floor=$(since "$t0")
    # The same rows, save RFC 4180's CRLF line ends.
    tr -d '\r' <"$work/report.csv" | cmp -s - "$work/floor.csv" || { echo "the product's CSV and the floor's differ"; diff <(tr -d '\r' <"$work/report.csv") "$work/floor.csv" | head; exit 1; }
    csv_ratios+=("$(ratio "$product" "$floor")")
    echo "pair $i: product ${product}s (RSS ${before} kB before, peak ${peak} kB) | floor ${floor}s | ${csv_ratios[-1]}x"
  done
  echo "CSV: $(($(wc -l <"$work/report.csv") - 1)) rows, $(du -k "$work/report.csv" | cut -f1) kB; median $(median "${csv_ratios[@]}")x of the floor (goal <= 1.2)"
  echo "Server errors logged: $(grep -c '"level":"ERROR"' "$work/server.log" || true)"
  stop_server
done
if [ "${#peaks[@]}" -gt 1 ]; then
  echo "peak RSS of the import: ${peaks[*]} kB; largest / smallest size: $(ratio "${peaks[-1]}" "${peaks[0]}")x (goal <= 1.1)"
fi
