#!/usr/bin/env bash
# Benchmarks the daily re-check sweep: 10,000 verified domains fall due at
# once and the server's ticker re-checks them against dnsmasq on loopback.
# Compares the sweep's time with the same number of bare DNS queries at the
# same concurrency, and the Domains page's p99 latency during the sweep
# with its p99 when idle. Needs Debian's dnsmasq besides lib.sh's tools.
#
#   bench/recheck-sweep.sh     # DOMAINS=10000 CONCURRENCY=16
set -euo pipefail
cd "$(dirname "$0")/.."
DOMAINS=${DOMAINS:-10000}
CONCURRENCY=${CONCURRENCY:-16}
DNSPORT=${DNSPORT:-5353}
. bench/lib.sh

start_database
add_domains "$org" 100 page verified "now() + interval '1 day'"
psql -d bench -c "INSERT INTO organizations (name, created_at) VALUES ('Sweep Corp', now())"
sweep=$(psql -d bench -tAc "SELECT id FROM organizations WHERE name = 'Sweep Corp'")
add_domains "$sweep" "$DOMAINS" sweep verified "now() + interval '1 day'"

# dnsmasq answers every sweep domain's TXT record (and nothing else).
psql -d bench -tAc "SELECT 'txt-record=_twilio.' || name || ',' || token FROM domains WHERE organization_id = $sweep" >"$work/dnsmasq.conf"
dnsmasq --keep-in-foreground --port="$DNSPORT" --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
  --conf-file="$work/dnsmasq.conf" --cache-size=0 &
extra_pids+=($!)
sleep 1

go build -o "$work/dnsbare" ./bench/dnsbare
echo "== Bare DNS queries: dnsbare -n $DOMAINS -c $CONCURRENCY"
"$work/dnsbare" -server "127.0.0.1:$DNSPORT" -n "$DOMAINS" -c "$CONCURRENCY" -name '_twilio.sweep%d.example' >/dev/null  # warm up
"$work/dnsbare" -server "127.0.0.1:$DNSPORT" -n "$DOMAINS" -c "$CONCURRENCY" -name '_twilio.sweep%d.example' | tee "$work/bare.txt"
bare=$(grep -o 'in [0-9.]*m\?s' "$work/bare.txt" | head -1)

ADMINCENTER_TICK=200ms ADMINCENTER_CHECK_CONCURRENCY=$CONCURRENCY ADMINCENTER_DNS_SERVERS=127.0.0.1:$DNSPORT \
  ADMINCENTER_VERIFY_ALLOW_PRIVATE=true start_server
sign_in
page="http://$ADDR/admin/domains"

# sweep_now makes every sweep domain due and waits until all are checked,
# printing the seconds it took.
sweep_now() {
  local mark start
  mark=$(psql -d bench -tAc "SELECT now()")
  psql -d bench -c "UPDATE domains SET next_check_at = now() WHERE organization_id = $sweep"
  start=$(date +%s.%N)
  while [ "$(psql -d bench -tAc "SELECT COUNT(*) FROM domains WHERE organization_id = $sweep AND (last_checked_at IS NULL OR last_checked_at < '$mark')")" != 0 ]; do
    sleep 0.25
  done
  echo "$(date +%s.%N) - $start" | bc
}

echo
echo "== Sweep alone"
wrk -t1 -c4 -d3s -H "Cookie: $cookie" "$page" >/dev/null   # warm up
alone=$(sweep_now)
echo "$DOMAINS domains re-checked in ${alone}s: $(echo "$DOMAINS / $alone" | bc) checks/s (bare DNS: $bare)"
echo "states: $(psql -d bench -tAc "SELECT string_agg(status || '=' || n, ' ') FROM (SELECT status, COUNT(*) n FROM domains GROUP BY status) s")"

# The page is measured for as long as a sweep lasts: idle, then while one runs.
seconds=$(printf '%.0f' "$alone"); [ "$seconds" -ge 1 ] || seconds=1
echo
echo "== Domains page, idle: wrk -t1 -c4 -d${seconds}s --latency"
wrk -t1 -c4 -d"${seconds}s" --latency -H "Cookie: $cookie" "$page" | tee "$work/idle.txt" | grep -E "Requests/sec|  (50|99)%"

echo
echo "== Domains page during a sweep: wrk -t1 -c4 -d${seconds}s --latency"
( sweep_now >"$work/during.txt" ) &
sweeping=$!
wrk -t1 -c4 -d"${seconds}s" --latency -H "Cookie: $cookie" "$page" | tee "$work/busy.txt" | grep -E "Requests/sec|  (50|99)%"
wait "$sweeping"
echo "the sweep under page load took $(cat "$work/during.txt")s"
echo
echo "Server errors logged: $(grep -c '"level":"ERROR"' "$work/server.log" || true)"
