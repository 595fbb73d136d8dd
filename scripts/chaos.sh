#!/usr/bin/env bash
# The fault suite: real `berth serve` replicas, engines and PostgreSQL, with faults injected under load
# (a replica killed mid-creates, racing changes, a dead engine, PostgreSQL stopped, SIGTERM, cut
# connections). Each scenario prints what it did and what it found ("chaos N: ...").
#
# Usage: scripts/chaos.sh [short|full]   short (make test): each scenario once at the issue's sizes;
#                                         full (make chaos): three rounds each at 2.5 times the load.
# Needs PostgreSQL and the fleet running (make test starts them; so does this script when they are not).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-short}
case $mode in short|full) ;; *) echo "chaos.sh: usage: scripts/chaos.sh [short|full]" >&2; exit 2 ;; esac

scripts/postgres.sh status >/dev/null 2>&1 || scripts/postgres.sh start
scripts/fleet.sh status >/dev/null 2>&1 || scripts/fleet.sh up
eval "$(scripts/postgres.sh env)"
eval "$(scripts/fleet.sh env)"
swift build --build-tests >.build-chaos.log 2>&1 || { cat .build-chaos.log >&2; echo "chaos.sh: build failed" >&2; exit 1; }
# The whole output goes to .build-chaos.log; the scenarios' reports and any failure are shown. With
# pipefail a failing swift test fails the script.
BERTH_CHAOS=$mode swift test --skip-build --no-parallel --filter ChaosTests 2>&1 | tee .build-chaos.log | grep -E '^chaos [0-9]|✘|recorded an issue|Test run with'
