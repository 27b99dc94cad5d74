#!/usr/bin/env bash
# Benchmarks the signed-in Domains page on PostgreSQL: one organization's
# 100 domains among 100,000 domain rows, against its floor, a minimal
# net/http + pgx program written apart from the product
# (bench/floors/domainspage) that runs the page's query with its own SQL and
# writes plain HTML. It runs PAIRS back-to-back pairs (page, then floor) and
# prints the ratio of each pair and their median.
#
#   bench/domains-page.sh            # DURATION=20s CONNECTIONS=16 THREADS=1 PAIRS=3
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-1}
PAIRS=${PAIRS:-3}
FLOOR_ADDR=${FLOOR_ADDR:-127.0.0.1:18081}
. bench/lib.sh

start_database
# The demo's own acme.test counts towards Acme Corp's 100; 999 other
# organizations hold the rest of the 100,000 rows.
have=$(psql -d bench -tAc "SELECT count(*) FROM domains WHERE organization_id = $org")
add_domains "$org" $((100 - have)) bench verified "now() + interval '1 day'"
psql -d bench -c "INSERT INTO organizations (name, created_at) SELECT 'Bench org ' || i, now() FROM generate_series(1, 999) AS i"
psql -d bench -c "
  INSERT INTO domains (organization_id, name, unicode_name, token, file_name, method, status, verified_at, verified_method, last_checked_at, next_check_at, created_at)
  SELECT o.id, 'o' || o.id || '-' || i || '.example', 'o' || o.id || '-' || i || '.example',
         'twilio-domain-verification=' || md5(o.id || '-' || i), 'twilio-domain-verification-' || substr(md5('f' || o.id || '-' || i), 1, 16) || '.html',
         'dns', 'verified', now() - interval '3 days', 'dns', now() - interval '1 day', now() + interval '1 day', now() - interval '5 days'
  FROM organizations o CROSS JOIN generate_series(1, 100) AS i WHERE o.name LIKE 'Bench org %'"
psql -d bench -c "ANALYZE"
total=$(psql -d bench -tAc "SELECT count(*) FROM domains")
[ "$total" = 100000 ] || { echo "the database holds $total domain rows, want 100000"; exit 1; }

ADMINCENTER_TICK=1h start_server
go build -o "$work/floor" ./bench/floors/domainspage
"$work/floor" -addr "$FLOOR_ADDR" -db "$DATABASE_URL" -org "$org" 2>"$work/floor.log" &
extra_pids+=($!)
for _ in $(seq 50); do curl -fs -o /dev/null "http://$FLOOR_ADDR/domains" && break; sleep 0.1; done
sign_in
page="http://$ADDR/admin/domains"
floor="http://$FLOOR_ADDR/domains"
rows=$(curl -fs -H "Cookie: $cookie" "$page" | grep -o 'href="/admin/domains/[0-9]*"' | sort -u | wc -l)
[ "$rows" = 100 ] || { echo "the Domains page links $rows domains, want 100"; exit 1; }
rows=$(curl -fs "$floor" | grep -o 'href="/admin/domains/[0-9]*"' | wc -l)
[ "$rows" = 100 ] || { echo "the floor shows $rows domains, want 100"; exit 1; }

# Statements per request: committed transactions (outside a transaction,
# each statement is its own) over 200 requests, less the background.
queries() {
  local url=$1 header=${2:-} before after
  before=$(psql -d bench -tAc "SELECT xact_commit FROM pg_stat_database WHERE datname = 'bench'")
  for _ in $(seq 200); do curl -fs ${header:+-H "$header"} -o /dev/null "$url"; done
  sleep 11 # PostgreSQL flushes an idle connection's counts within 10 s
  after=$(psql -d bench -tAc "SELECT xact_commit FROM pg_stat_database WHERE datname = 'bench'")
  echo "scale=1; ($after - $before - 1) / 200" | bc
}
echo "Statements per request: Domains page $(queries "$page" "Cookie: $cookie"), floor $(queries "$floor")"

# Warm up both (connection pools, caches) before measuring either.
wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -H "Cookie: $cookie" "$page" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d5s "$floor" >/dev/null

# measure URL [HEADER]: prints "requests/s p99-ms" of one wrk run.
measure() {
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency ${2:+-H "$2"} "$1")
  echo "$out" >>"$work/wrk.log"
  awk '/Requests\/sec/ { rps = $2 }
       $1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }; p99 = v }
       END { printf "%s %s\n", rps, p99 }' <<<"$out"
}

echo
echo "== wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $PAIRS pairs (page, then floor)"
ratios=() tails=()
for i in $(seq "$PAIRS"); do
  read -r prps pp99 < <(measure "$page" "Cookie: $cookie")
  read -r frps fp99 < <(measure "$floor")
  ratio=$(echo "scale=2; $prps / $frps" | bc)
  tail=$(echo "scale=2; $pp99 / $fp99" | bc)
  ratios+=("$ratio") tails+=("$tail")
  printf "pair %d: page %8.0f req/s p99 %6.2f ms | floor %8.0f req/s p99 %6.2f ms | throughput %sx, p99 %sx\n" \
    "$i" "$prps" "$pp99" "$frps" "$fp99" "$ratio" "$tail"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo "median: throughput $(median "${ratios[@]}")x of the floor (goal >= 0.8), p99 $(median "${tails[@]}")x (goal <= 1.5)"
echo "Server errors logged: $(grep -c '"level":"ERROR"' "$work/server.log" || true)"
