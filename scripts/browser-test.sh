#!/usr/bin/env bash
# The admin panel in a real browser: Debian's headless chromium, driven through selenium (from PyPI,
# in a venv under .local/), against a real `berth serve` with a database of its own. Runs
# Tests/browser/panel_test.py, which writes a screenshot of each page to test-artifacts/panel/.
# Called by `make test`. Needs: PostgreSQL and the fleet running, the berth binary built, and
# chromium + chromium-driver (installed here through scripts/deps.sh when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "browser-test.sh: $*" >&2; exit 1; }
scripts/deps.sh chromium chromium-driver
command -v chromium >/dev/null || die "chromium is missing (apt package chromium)"
command -v chromedriver >/dev/null || die "chromedriver is missing (apt package chromium-driver)"

venv=.local/browser-venv
if ! "$venv/bin/python" -c 'import selenium' 2>/dev/null; then
    python3 -m venv "$venv" || die "cannot create $venv with python3 -m venv (with Debian's own python3, install python3-venv)"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check 'selenium>=4.20,<5' || die "selenium did not install"
fi

eval "$(scripts/postgres.sh env)"
eval "$(scripts/fleet.sh env)"
bin=$(swift build --show-bin-path)/berth
[ -x "$bin" ] || die "$bin is not built"
# The browser test's own engine: the health-monitor test kills and restarts ws-spare-1.
[ -n "${BERTH_TEST_DOCKER_PANEL:-}" ] || die "BERTH_TEST_DOCKER_PANEL is not set (scripts/fleet.sh env)"

# A database of its own, migrated; the fleet's usual servers are registered at start, and the
# panel's own engine (ws-panel-1) is left for the test to add through the panel.
# (Its name is this run's own, so two runs side by side do not drop each other's; dropped at exit.)
db=berth_browser_$$
admin=${BERTH_TEST_PG_SUPERUSER_URL}
PGOPTIONS='-c client_min_messages=warning' psql -X -q "$admin" -c "CREATE DATABASE $db OWNER berth_owner"
trap 'psql -X -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
export BERTH_MIGRATE_DATABASE_URL=${BERTH_MIGRATE_DATABASE_URL%/*}/$db
export BERTH_DATABASE_URL=${BERTH_DATABASE_URL%/*}/$db
out=$("$bin" migrate 2>&1) || { printf '%s\n' "$out" >&2; die "berth migrate failed"; }

token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
log=$(mktemp)
mkdir -p test-artifacts/panel
serve=
trap 'if [ -n "$serve" ]; then kill $serve 2>/dev/null || true; wait $serve 2>/dev/null || true; fi; cp "$log" test-artifacts/panel/berth-serve.log 2>/dev/null || true; rm -f "$log"; psql -X -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
# A port the kernel says is free; if another process takes it before berth binds it, try again.
for _ in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    BERTH_ADMIN_TOKEN=$token BERTH_HTTP_ADDRESS=127.0.0.1:$port "$bin" serve --health-interval 1 >"$log" 2>&1 &
    serve=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/health" >/dev/null && break 2
        kill -0 $serve 2>/dev/null || break
        sleep 0.1
    done
    kill $serve 2>/dev/null || true; wait $serve 2>/dev/null || true; serve=
done
[ -n "$serve" ] || { cat "$log" >&2; die "berth serve did not start"; }

status=0
# The token reaches the test through its environment, never a command line.
BERTH_PANEL_URL=http://127.0.0.1:$port BERTH_PANEL_TOKEN=$token BERTH_PANEL_SERVER=$BERTH_TEST_DOCKER_PANEL \
    BERTH_PANEL_ARTIFACTS=test-artifacts/panel SE_OFFLINE=true \
    "$venv/bin/python" Tests/browser/panel_test.py || status=$?
if grep -q "$token" "$log"; then echo "browser-test.sh: the admin token appears in the service log" >&2; status=1; fi
exit $status
