#!/usr/bin/env bash
# Benchmarks the signed-in Domains page of an organization with 100 domains
# on PostgreSQL, side by side with a bare Echo handler in the same binary
# (no middleware, no session) that runs the same query and writes the rows
# as plain HTML. The bare handler is unauthenticated, so it exists only in a
# binary built with -tags bench, never in the product's.
#
#   bench/domains-page.sh            # DURATION=20s CONNECTIONS=16 THREADS=1
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-1}
BUILD_TAGS=bench
. bench/lib.sh

start_database
# The demo's own acme.test counts towards the 100.
have=$(psql -d bench -tAc "SELECT count(*) FROM domains WHERE organization_id = $org")
add_domains "$org" $((100 - have)) bench verified "now() + interval '1 day'"
ADMINCENTER_TICK=1h start_server --bench-baseline
sign_in
page="http://$ADDR/admin/domains"
bare="http://$ADDR/bench/baseline/domains?org=$org"
rows=$(curl -fs -H "Cookie: $cookie" "$page" | grep -o 'href="/admin/domains/[0-9]*"' | wc -l)
[ "$rows" = 100 ] || { echo "the Domains page shows $rows domains, want 100"; exit 1; }

# Queries per request: committed transactions (each statement here is one)
# over 200 requests, less the background.
queries() {
  local url=$1 header=${2:-} before after
  before=$(psql -d bench -tAc "SELECT xact_commit FROM pg_stat_database WHERE datname = 'bench'")
  for _ in $(seq 200); do curl -fs ${header:+-H "$header"} -o /dev/null "$url"; done
  sleep 1
  after=$(psql -d bench -tAc "SELECT xact_commit FROM pg_stat_database WHERE datname = 'bench'")
  echo "scale=1; ($after - $before - 1) / 200" | bc
}
echo "Queries per request: Domains page $(queries "$page" "Cookie: $cookie"), bare handler $(queries "$bare")"

# Warm up both (connection pool, caches) before measuring either.
wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -H "Cookie: $cookie" "$page" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d5s "$bare" >/dev/null

echo
echo "== Domains page (signed in, 100 domains): wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Cookie: $cookie" "$page"
echo
echo "== Bare Echo handler, same query: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$bare"
echo
echo "Server errors logged: $(grep -c '"level":"ERROR"' "$work/server.log" || true)"
