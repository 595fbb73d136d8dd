#!/usr/bin/env bash
# `make test`: installs what is missing, starts PostgreSQL and the local Docker fleet, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
scripts/postgres.sh start
if [ -x scripts/fleet.sh ]; then
    scripts/fleet.sh up
    eval "$(scripts/fleet.sh env)"
fi
eval "$(scripts/postgres.sh env)"

swift build --build-tests 2>&1 | tee .build-test.log | grep -vE '^\[[0-9]+/[0-9]+\]' || true
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "test.sh: build failed" >&2; exit 1; }
if grep -E '^/.*warning:' .build-test.log | grep -v '/.build/' ; then
    echo "test.sh: the build has warnings (see above)" >&2
    exit 1
fi
swift test --skip-build
