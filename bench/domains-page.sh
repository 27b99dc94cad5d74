#!/usr/bin/env bash
# Benchmarks the signed-in Domains page of an organization with 100 domains
# on PostgreSQL, side by side with a bare Echo handler in the same binary
# (no middleware, no session) that runs the same query and writes the rows
# as plain HTML. Needs Debian's postgresql and wrk; run as root.
#
#   bench/domains-page.sh            # DURATION=20s CONNECTIONS=16 THREADS=1
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-1}
PGPORT=${PGPORT:-55432}
ADDR=127.0.0.1:18080

work=$(mktemp -d)
chown postgres "$work"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pg() { runuser -u postgres -- "$pgbin/$@"; }
cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  pg pg_ctl -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

pg initdb -D "$work/data" -U postgres --auth=trust -N --no-locale >/dev/null
pg pg_ctl -D "$work/data" -l "$work/pg.log" -o "-p $PGPORT -k $work -c listen_addresses=127.0.0.1" -w start >/dev/null
psql() { command psql -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres "$@"; }
psql -c 'CREATE DATABASE bench'
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/bench?sslmode=disable"

go build -o "$work/admincenter" ./cmd/admincenter
"$work/admincenter" demo >/dev/null 2>&1
org=$(psql -d bench -tAc "SELECT id FROM organizations WHERE name = 'Acme Corp'")
psql -d bench -c "
  INSERT INTO domains (organization_id, name, unicode_name, token, file_name, method, status, verified_at, verified_method, last_checked_at, next_check_at, created_at)
  SELECT $org, 'bench' || i || '.example', 'bench' || i || '.example',
         'twilio-domain-verification=' || md5('t' || i), 'twilio-domain-verification-' || substr(md5('f' || i), 1, 16) || '.html',
         'dns', CASE WHEN i % 4 = 0 THEN 'pending' ELSE 'verified' END,
         now() - interval '3 days', CASE WHEN i % 4 = 0 THEN '' ELSE 'dns' END, now(), now() + interval '1 day', now() - interval '5 days'
  FROM generate_series(1, 100) AS i"

ADMINCENTER_ADDR=$ADDR ADMINCENTER_BASE_URL=http://$ADDR ADMINCENTER_TICK=1h \
  "$work/admincenter" serve --bench-baseline >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -fs "http://$ADDR/readyz" >/dev/null && break; sleep 0.1; done

jar="$work/cookies"
csrf=$(curl -fs -c "$jar" "http://$ADDR/login" | grep -o 'name="_csrf" value="[^"]*"' | cut -d'"' -f4)
curl -fs -b "$jar" -c "$jar" -o /dev/null --data-urlencode "_csrf=$csrf" \
  --data-urlencode email=owner@acme.test --data-urlencode password=demo-password "http://$ADDR/login"
cookie="admincenter_session=$(awk '$6 == "admincenter_session" { print $7 }' "$jar")"
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
grep -o '"status":[0-9]*' "$work/server.log" | sort | uniq -c
grep "\"level\":\"ERROR\"" "$work/server.log" | head -3
