#!/usr/bin/env bash
# `make test`: installs what is missing, starts PostgreSQL and the local Docker fleet, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh chromium chromium-driver prometheus docker-compose wrk
if [ "${CI:-}" = true ]; then
    # In CI nothing should outlive the run: stop what we started, whatever the outcome.
    trap 'scripts/fleet.sh stop >/dev/null 2>&1 || true; scripts/postgres.sh stop || true' EXIT
fi
scripts/postgres.sh start
# A clone in a private (0700) folder, as in root's home, starts its own cluster too.
scripts/private-folder-test.sh
if [ -x scripts/fleet.sh ]; then
    scripts/fleet.sh up
    eval "$(scripts/fleet.sh env)"
fi
eval "$(scripts/postgres.sh env)"
# Databases that tests of an earlier run left behind (a test that failed before its clean-up ran).
psql "$BERTH_TEST_PG_SUPERUSER_URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'berth\_t\_%'" |
    while read -r leftover; do psql "$BERTH_TEST_PG_SUPERUSER_URL" -qc "DROP DATABASE IF EXISTS \"$leftover\" WITH (FORCE)"; done

status=0
swift build --build-tests >.build-test.log 2>&1 || status=$?
grep -vE '^\[[0-9]+/[0-9]+\]' .build-test.log || true
[ "$status" -eq 0 ] || { echo "test.sh: build failed" >&2; exit 1; }
if grep -E '^/.*warning:' .build-test.log | grep -v '/.build/' ; then
    echo "test.sh: the build has warnings (see above)" >&2
    exit 1
fi
# The reference deployment (docker-compose.yml, both profiles, and its Dockerfile) is valid.
scripts/compose-check.sh
# Tests that run whole `berth serve` processes or measure reaction times run on their own, one at a
# time, after the rest: the parallel suite would otherwise starve them of the 2 cores.
timed='OvercommitStormTests|TwoReplicaHealthTests|ServerHealthMonitorTests|TenantAPIProcessTests|ObservedUsageTests|ServeConfigurationTests|HostileRequestProcessTests|ForkBombTests|TenantFairnessProcessTests|GitProcessTests|ExportStreamingProcessTests|MeteringCrashProcessTests|ScalingProcessTests|MetricsProcessTests|RequestIDProcessTests|BackupProcessTests'
swift test --skip-build --skip "$timed|ChaosTests"
# The OpenAPI document against the real service: no server errors, no responses that break it.
scripts/schemathesis.sh
# The admin panel in headless chromium against a real service; screenshots in test-artifacts/panel/.
scripts/browser-test.sh
swift test --skip-build --no-parallel --filter "$timed"
# The fault suite, short form (make chaos runs the full one).
scripts/chaos.sh short
# Every benchmark at its smallest size on the debug build, so that make bench cannot rot (its
# figures mean nothing; make bench measures).
scripts/bench.sh smoke
