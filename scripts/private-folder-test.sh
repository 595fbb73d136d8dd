#!/usr/bin/env bash
# A clone in a private folder (mode 0700, like root's home) can run the local world: PostgreSQL runs as
# the postgres user, who cannot enter such a folder, so the cluster must live outside the checkout.
# This clones HEAD into a fresh 0700 folder and starts, uses and destroys a cluster from there, on a
# port of its own. (The fleet, git servers and the service run as root, or as the user, in the
# checkout, which 0700 does not stop.) Called by `make test`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
top=$(mktemp -d /tmp/berth-private-XXXXXX)
chmod 700 "$top"
home=$top/home
mkdir -m 700 "$home"
clone=$home/berth
cleanup() {
    [ -x "$clone/scripts/postgres.sh" ] && BERTH_PG_PORT=$port "$clone/scripts/postgres.sh" destroy >/dev/null 2>&1 || true
    rm -rf "$top"
}
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
trap cleanup EXIT
git clone -q "$repo" "$clone"
[ "$(stat -c %a "$home")" = 700 ] || { echo "private-folder-test: $home is not 0700" >&2; exit 1; }
BERTH_PG_PORT=$port "$clone/scripts/postgres.sh" start
eval "$(BERTH_PG_PORT=$port "$clone/scripts/postgres.sh" env)"
case $BERTH_PG_DIR in "$home"/*) echo "private-folder-test: the cluster is inside the private folder ($BERTH_PG_DIR)" >&2; exit 1 ;; esac
answer=$(psql -X -tA "$BERTH_DATABASE_URL" -c "SELECT current_user || ' ' || 1 + 1")
[ "$answer" = "berth_app 2" ] || { echo "private-folder-test: the service role got '$answer'" >&2; exit 1; }
echo "ok - a clone in a 0700 folder ($clone) started a cluster in $BERTH_PG_DIR and logged in as berth_app"
