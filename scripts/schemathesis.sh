#!/usr/bin/env bash
# Runs Schemathesis (from PyPI, one pinned version, in a venv under .local/) against /openapi.json
# of a real `berth serve`: every route with a seeded tenant key (admin routes must then refuse it
# as the document says), then the admin routes with the admin token.
# Fails on any server error or any response that breaks the document, and before that when the
# service or its workspace servers are not healthy: with no healthy server every create answers
# the documented 503 no_healthy_servers, which would pass without testing anything.
# Called by `make test`. Needs: PostgreSQL and the fleet running (scripts/postgres.sh,
# scripts/fleet.sh) and the berth binary built.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "schemathesis.sh: $*" >&2; exit 1; }

# One exact version, so that a new release cannot change what passes. In a venv of its own: Debian
# 12's python3 refuses a system-wide pip install (PEP 668, externally managed).
version=4.32.5
venv=.local/schemathesis-venv
schemathesis=$venv/bin/schemathesis
if [ "$("$schemathesis" --version 2>/dev/null || true)" != "schemathesis, version $version" ]; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv" 2>/dev/null; then
        # Debian's python3 makes venvs only with python3-venv (ensurepip).
        rm -rf "$venv"
        scripts/deps.sh python3-venv
        python3 -m venv "$venv" || die "cannot create $venv with python3 -m venv"
    fi
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "schemathesis==$version" \
        || die "schemathesis $version did not install from PyPI"
    [ "$("$schemathesis" --version 2>/dev/null || true)" = "schemathesis, version $version" ] \
        || die "$schemathesis is not version $version"
fi

eval "$(scripts/postgres.sh env)"
eval "$(scripts/fleet.sh env)"
bin=$(swift build --show-bin-path)/berth
[ -x "$bin" ] || die "$bin is not built"

# A database of its own for this run (two runs side by side do not drop each other's), migrated,
# with one tenant and key; dropped at the end.
db=berth_schemathesis_$$
admin=${BERTH_TEST_PG_SUPERUSER_URL}
psql -X -q "$admin" -c "CREATE DATABASE $db OWNER berth_owner"
export BERTH_MIGRATE_DATABASE_URL=${BERTH_MIGRATE_DATABASE_URL%/*}/$db
export BERTH_DATABASE_URL=${BERTH_DATABASE_URL%/*}/$db
log=$(mktemp)
serve=
cleanup() {
    if [ -n "$serve" ]; then kill "$serve" 2>/dev/null || true; wait "$serve" 2>/dev/null || true; fi
    rm -f "$log"
    psql -X -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$bin" migrate >/dev/null
"$bin" tenant create --name schemathesis --max-workspaces 5 --max-cpu 1 --max-memory-mb 1024 >/dev/null 2>&1
key=$("$bin" apikey create --tenant schemathesis 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')

admin_token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
# A port the kernel says is free (random ones can collide with outgoing connections' ports).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
# High per-tenant limits: the fuzzing would otherwise spend its examples on documented 429s.
BERTH_TENANT_MAX_CONCURRENT=1000 BERTH_TENANT_RATE=100000 BERTH_TENANT_BURST=100000 \
    BERTH_ADMIN_TOKEN=$admin_token BERTH_HEALTH_INTERVAL=0.5 BERTH_HTTP_ADDRESS=127.0.0.1:$port "$bin" serve >"$log" 2>&1 &
serve=$!
url=http://127.0.0.1:$port

# Ready means: the service answers /health and /ready, and every server it registered from
# BERTH_WORKSPACE_SERVERS is healthy. Otherwise the run fails here, saying what was not ready.
expected=$(python3 -c 'import json, os; print(len(json.loads(os.environ["BERTH_WORKSPACE_SERVERS"])))')
[ "$expected" -ge 1 ] || die "BERTH_WORKSPACE_SERVERS lists no server"
missing=
for _ in $(seq 1 300); do
    kill -0 "$serve" 2>/dev/null || { cat "$log" >&2; die "berth serve exited before it was ready"; }
    missing=
    curl -sf -o /dev/null "$url/health" || missing="$missing /health does not answer 200;"
    curl -sf -o /dev/null "$url/ready" || missing="$missing /ready does not answer 200;"
    states=$(psql -X -tA "${admin%/*}/$db" -c "SELECT string_agg(name || ' ' || status, ', ' ORDER BY name) FROM workspace_servers" 2>/dev/null || true)
    healthy=$(psql -X -tA "${admin%/*}/$db" -c "SELECT count(*) FROM workspace_servers WHERE status = 'healthy'" 2>/dev/null || echo 0)
    [ "$healthy" = "$expected" ] || missing="$missing $healthy of $expected servers healthy (${states:-none registered});"
    [ -z "$missing" ] && break
    sleep 0.1
done
if [ -n "$missing" ]; then tail -n 20 "$log" >&2; die "not ready after 30 s:$missing"; fi
# And a create is really served: placed, started on an engine, deleted again.
created=$(curl -s -w '\n%{http_code}' -X POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"name":"schemathesis-probe","image":"berth-busybox:latest","resources":{"cpu":0.1,"memory_mb":32}}' \
    "$url/v1/workspaces?wait=running&timeout=60")
case $created in
    *'"status":"running"'*$'\n'201) ;;
    *) die "a probe create was not served (the fleet cannot place workspaces): $created" ;;
esac
probe=$(printf '%s' "$created" | head -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
[ "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $key" "$url/v1/workspaces/$probe")" = 204 ] \
    || die "the probe workspace could not be deleted"

status=0
"$schemathesis" run "$url/openapi.json" \
    --header "Authorization: Bearer $key" \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance \
    --phases examples,coverage,fuzzing,stateful --mode all \
    --max-examples 25 --seed 20261123 --request-timeout 60 --no-color || status=$?
# The admin routes as the admin. Adding a server connects to it once (up to 5 s for a host that
# does not answer), hence fewer examples.
"$schemathesis" run "$url/openapi.json" \
    --header "Authorization: Bearer $admin_token" --include-path-regex '^/admin/' \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance \
    --phases examples,coverage,fuzzing,stateful --mode all \
    --max-examples 15 --seed 20261123 --request-timeout 60 --no-color || status=$?
# Whatever was sent, the same process still serves.
kill -0 "$serve" 2>/dev/null || { tail -n 40 "$log" >&2; echo "schemathesis.sh: berth serve died during the run" >&2; status=1; }
curl -sf -o /dev/null "$url/health" || { echo "schemathesis.sh: berth serve no longer answers /health" >&2; status=1; }
for secret in "$key" "$admin_token"; do
    if grep -q "$secret" "$log"; then echo "schemathesis.sh: a key or token appears in the service log" >&2; status=1; fi
done
# Workspaces the run created are removed with their containers.
for id in $(psql -X -tA "${admin%/*}/$db" -c "SELECT id FROM workspaces WHERE status NOT IN ('deleted')"); do
    curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $key" "$url/v1/workspaces/$id" || true
done
exit $status
