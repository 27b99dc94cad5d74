#!/usr/bin/env bash
# Benchmarks the re-check sweep: 10,000 verified domains fall due at once and
# the server's ticker re-checks them against dnsmasq on loopback. Compares
# the sweep's time with the same number of bare DNS queries at the same
# concurrency, and the Domains page's p99 latency during a sweep with its
# p99 when idle. The server's own schedule drives both sweeps (with a short
# ADMINCENTER_RECHECK_INTERVAL): nothing but the app writes while it runs.
# Needs Debian's dnsmasq besides lib.sh's tools.
#
#   bench/recheck-sweep.sh     # DOMAINS=10000 CONCURRENCY=16
set -euo pipefail
cd "$(dirname "$0")/.."
DOMAINS=${DOMAINS:-10000}
CONCURRENCY=${CONCURRENCY:-16}
DNSPORT=${DNSPORT:-5353}
RECHECK=${RECHECK:-20}   # seconds between sweeps
. bench/lib.sh

start_database
add_domains "$org" 100 page verified "now() + interval '1 day'"
psql -d bench -c "INSERT INTO organizations (name, created_at) VALUES ('Sweep Corp', now())"
sweep=$(psql -d bench -tAc "SELECT id FROM organizations WHERE name = 'Sweep Corp'")
# The sweep domains fall due together, 20 s from now.
add_domains "$sweep" "$DOMAINS" sweep verified "now() + interval '20 seconds'"
due=$(psql -d bench -tAc "SELECT min(next_check_at) FROM domains WHERE organization_id = $sweep")

# dnsmasq answers every sweep domain's TXT record (and nothing else).
psql -d bench -tAc "SELECT 'txt-record=_twilio.' || name || ',' || token FROM domains WHERE organization_id = $sweep" >"$work/dnsmasq.conf"
dnsmasq --keep-in-foreground --port="$DNSPORT" --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
  --conf-file="$work/dnsmasq.conf" --cache-size=0 &
extra_pids+=($!)
sleep 1

go build -o "$work/floor" ./bench/floors/sweep
"$work/floor" -server "127.0.0.1:$DNSPORT" -n "$DOMAINS" -c "$CONCURRENCY" >/dev/null  # warm up

ADMINCENTER_TICK=50ms ADMINCENTER_CHECK_CONCURRENCY=$CONCURRENCY ADMINCENTER_DNS_SERVERS=127.0.0.1:$DNSPORT \
  ADMINCENTER_RECHECK_INTERVAL=${RECHECK}s ADMINCENTER_VERIFY_ALLOW_PRIVATE=true start_server
sign_in
page="http://$ADDR/admin/domains"
wrk -t1 -c4 -d3s -H "Cookie: $cookie" "$page" >/dev/null   # warm up

# checks_done prints how many checks the server has counted.
checks_done() {
  curl -fs "http://$ADDR/metrics" | awk '/^admincenter_domain_checks_total/ { n += $2 } END { printf "%d\n", n }'
}
sleep_until() { sleep "$(psql -d bench -tAc "SELECT greatest(0, EXTRACT(EPOCH FROM '$1'::timestamptz - clock_timestamp()))")"; }
# sweep_seconds prints the seconds from the moment a sweep fell due to its
# last check recorded, once all are recorded.
sweep_seconds() {
  local due=$1 target=$2
  while [ "$(checks_done)" -lt "$target" ]; do sleep 1; done
  psql -d bench -tAc "SELECT round(EXTRACT(EPOCH FROM max(last_checked_at) - '$due'::timestamptz)::numeric, 3) FROM domains WHERE organization_id = $sweep"
}

# Each sweep is paired with a bare-DNS run just before it, and each loaded
# page measurement with an idle one just before it, so that each pair sees
# the same machine; the medians of the ratios are the result. The sweeps
# come by themselves, RECHECK seconds after the last.
ratios=() ; p99s=()
next=$due
for round in 1 2 3 4 5 6; do
  target=$(( $(checks_done) + DOMAINS ))
  if [ "$round" -le 3 ]; then
    bare_s=$("$work/floor" -server "127.0.0.1:$DNSPORT" -n "$DOMAINS" -c "$CONCURRENCY" | grep -o 'in [0-9.]*m\?s' | sed 's/in //')
    case "$bare_s" in *ms) bare_s=$(echo "scale=3; ${bare_s%ms} / 1000" | bc) ;; *s) bare_s=${bare_s%s} ;; esac
    took=$(sweep_seconds "$next" "$target")
    ratio=$(echo "scale=2; $took / $bare_s" | bc)
    ratios+=("$ratio")
    echo "sweep $round: $DOMAINS domains re-checked in ${took}s ($(echo "$DOMAINS / $took" | bc) checks/s); bare DNS ${bare_s}s; ratio $ratio"
    seconds=$(printf '%.0f' "$took"); [ "$seconds" -ge 1 ] || seconds=1
  else
    idle=$(wrk -t1 -c4 -d"${seconds}s" --latency -H "Cookie: $cookie" "$page" | awk '$1 == "99%" { print $2 }')
    sleep_until "$next"
    busy=$(wrk -t1 -c4 -d"${seconds}s" --latency -H "Cookie: $cookie" "$page" | awk '$1 == "99%" { print $2 }')
    took=$(sweep_seconds "$next" "$target")
    ms() { case "$1" in *us) echo "scale=3; ${1%us} / 1000" | bc ;; *ms) echo "${1%ms}" ;; *s) echo "${1%s} * 1000" | bc ;; esac; }
    ratio=$(echo "scale=2; $(ms "$busy") / $(ms "$idle")" | bc)
    p99s+=("$ratio")
    echo "page p99 idle $idle, during sweep $busy: ratio $ratio (that sweep, slowed while pages were served, took ${took}s)"
  fi
  next=$(psql -d bench -tAc "SELECT min(next_check_at) FROM domains WHERE organization_id = $sweep")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo
echo "median sweep / bare DNS: $(median "${ratios[@]}") (goal at most 1.2)"
echo "median page p99 during / idle: $(median "${p99s[@]}") (goal at most 1.2)"
echo "states: $(psql -d bench -tAc "SELECT string_agg(status || '=' || n, ' ') FROM (SELECT status, COUNT(*) n FROM domains GROUP BY status) s")"
echo "Server errors logged: $(grep -c '"level":"ERROR"' "$work/server.log" || true)"
