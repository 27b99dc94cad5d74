# Shared by the benchmark scripts: a throwaway PostgreSQL cluster, the
# admincenter binary with the demo data, and a signed-in session.
# Needs Debian's postgresql, curl and wrk; run as root.
# BUILD_TAGS: Go build tags of the binary, if any.

PGPORT=${PGPORT:-55432}
ADDR=${ADDR:-127.0.0.1:18080}
work=$(mktemp -d)
chown postgres "$work"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pg() { runuser -u postgres -- "$pgbin/$@"; }
psql() { command psql -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres "$@"; }
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  for pid in "${extra_pids[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  pg pg_ctl -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
extra_pids=()
trap cleanup EXIT

# start_database starts the cluster and loads the demo data.
start_database() {
  pg initdb -D "$work/data" -U postgres --auth=trust -N --no-locale >/dev/null
  pg pg_ctl -D "$work/data" -l "$work/pg.log" -o "-p $PGPORT -k $work -c listen_addresses=127.0.0.1 ${PGOPTS:-}" -w start >/dev/null
  psql -c 'CREATE DATABASE bench'
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/bench?sslmode=disable"
  go build ${BUILD_TAGS:+-tags "$BUILD_TAGS"} -o "$work/admincenter" ./cmd/admincenter
  "$work/admincenter" demo >/dev/null 2>&1
  org=$(psql -d bench -tAc "SELECT id FROM organizations WHERE name = 'Acme Corp'")
}

# add_domains ORG COUNT PREFIX STATUS NEXT_CHECK: COUNT domains PREFIX1.example … 
add_domains() {
  psql -d bench -c "
    INSERT INTO domains (organization_id, name, unicode_name, token, file_name, method, status, verified_at, verified_method, last_checked_at, next_check_at, created_at)
    SELECT $1, '$3' || i || '.example', '$3' || i || '.example',
           'twilio-domain-verification=' || md5('$3' || i), 'twilio-domain-verification-' || substr(md5('f$3' || i), 1, 16) || '.html',
           'dns', '$4', now() - interval '3 days', 'dns', now() - interval '1 day', $5, now() - interval '5 days'
    FROM generate_series(1, $2) AS i"
}

# start_server [FLAGS…]: serves on $ADDR with the environment given.
start_server() {
  ADMINCENTER_ADDR=$ADDR ADMINCENTER_BASE_URL=http://$ADDR "$work/admincenter" serve "$@" >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -fs "http://$ADDR/readyz" >/dev/null && return; sleep 0.1; done
  echo "the server did not start"; cat "$work/server.log"; exit 1
}

# sign_in sets $cookie to a session of the Owner of Acme Corp.
sign_in() {
  local jar="$work/cookies" csrf
  csrf=$(curl -fs -c "$jar" "http://$ADDR/login" | grep -o 'name="_csrf" value="[^"]*"' | cut -d'"' -f4)
  curl -fs -b "$jar" -c "$jar" -o /dev/null --data-urlencode "_csrf=$csrf" \
    --data-urlencode email=owner@acme.test --data-urlencode password=demo-password "http://$ADDR/login"
  cookie="admincenter_session=$(awk '$6 == "admincenter_session" { print $7 }' "$jar")"
}
