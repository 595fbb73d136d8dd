#!/usr/bin/env bash
# Runs Schemathesis (from PyPI) against /openapi.json of a real `berth serve`: every route with a
# seeded tenant key (admin routes must then refuse it as the document says), then the admin routes
# with the admin token.
# Fails on any server error or any response that breaks the document. Called by `make test`.
# Needs: PostgreSQL and the fleet running (scripts/postgres.sh, scripts/fleet.sh) and the berth binary built.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v schemathesis >/dev/null || python3 -m pip install -q --disable-pip-version-check 'schemathesis>=4,<5'
command -v schemathesis >/dev/null || { echo "schemathesis.sh: schemathesis did not install" >&2; exit 1; }

eval "$(scripts/postgres.sh env)"
eval "$(scripts/fleet.sh env)"
bin=$(swift build --show-bin-path)/berth
[ -x "$bin" ] || { echo "schemathesis.sh: $bin is not built" >&2; exit 1; }

# A database of its own, migrated, with one tenant and key.
db=berth_schemathesis
admin=${BERTH_TEST_PG_SUPERUSER_URL}
psql -X -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db OWNER berth_owner"
export BERTH_MIGRATE_DATABASE_URL=${BERTH_MIGRATE_DATABASE_URL%/*}/$db
export BERTH_DATABASE_URL=${BERTH_DATABASE_URL%/*}/$db
"$bin" migrate >/dev/null
"$bin" tenant create --name schemathesis --max-workspaces 5 --max-cpu 1 --max-memory-mb 1024 >/dev/null 2>&1
key=$("$bin" apikey create --tenant schemathesis 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')

admin_token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
# A port the kernel says is free (random ones can collide with outgoing connections' ports).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
log=$(mktemp)
# High per-tenant limits: the fuzzing would otherwise spend its examples on documented 429s.
BERTH_TENANT_MAX_CONCURRENT=1000 BERTH_TENANT_RATE=100000 BERTH_TENANT_BURST=100000 \
    BERTH_ADMIN_TOKEN=$admin_token BERTH_HEALTH_INTERVAL=0.5 BERTH_HTTP_ADDRESS=127.0.0.1:$port "$bin" serve >"$log" 2>&1 &
serve=$!
trap 'kill $serve 2>/dev/null || true; wait $serve 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
for _ in $(seq 1 100); do
    n=$(psql -X -tA "${admin%/*}/$db" -c "SELECT count(*) FROM workspace_servers WHERE status = 'healthy'")
    [ "$n" -ge 1 ] && break
    sleep 0.1
done

status=0
schemathesis run "http://127.0.0.1:$port/openapi.json" \
    --header "Authorization: Bearer $key" \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance \
    --max-examples 25 --seed 20261123 --request-timeout 60 --no-color || status=$?
# The admin routes as the admin. Adding a server connects to it once (up to 5 s for a host that
# does not answer), hence fewer examples.
schemathesis run "http://127.0.0.1:$port/openapi.json" \
    --header "Authorization: Bearer $admin_token" --include-path-regex '^/admin/' \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance \
    --max-examples 15 --seed 20261123 --request-timeout 60 --no-color || status=$?
for secret in "$key" "$admin_token"; do
    if grep -q "$secret" "$log"; then echo "schemathesis.sh: a key or token appears in the service log" >&2; status=1; fi
done
# Workspaces the run created are removed with their containers.
for id in $(psql -X -tA "${admin%/*}/$db" -c "SELECT id FROM workspaces WHERE status NOT IN ('deleted')"); do
    curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $key" "http://127.0.0.1:$port/v1/workspaces/$id" || true
done
exit $status
